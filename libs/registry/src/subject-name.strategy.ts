/**
 * How a record's subject is named in the registry, as Confluent's serialisers name it:
 * `topic` (TopicNameStrategy, the default): `<topic>-value` / `<topic>-key`;
 * `record` (RecordNameStrategy): the record's fully-qualified name;
 * `topic-record` (TopicRecordNameStrategy): `<topic>-<fully-qualified name>`.
 */
export const SUBJECT_NAME_STRATEGIES = ['topic', 'record', 'topic-record'] as const;
export type SubjectNameStrategy = (typeof SUBJECT_NAME_STRATEGIES)[number];

/** What a subject name is made of. */
export interface SubjectNameParts {
  /** The Kafka topic the record goes to or comes from. */
  readonly topic: string;
  /** Fully-qualified Avro record name (`namespace.Name`) or Protobuf message name (`package.Message`). */
  readonly recordName: string;
  /** The record key's subject rather than the value's (only `topic` tells them apart). */
  readonly isKey?: boolean;
}

/** The subject under which the schema of a record is registered. */
export function subjectName(strategy: SubjectNameStrategy, parts: SubjectNameParts): string {
  switch (strategy) {
    case 'topic':
      return `${parts.topic}-${parts.isKey ? 'key' : 'value'}`;
    case 'record':
      return parts.recordName;
    case 'topic-record':
      return `${parts.topic}-${parts.recordName}`;
  }
}
