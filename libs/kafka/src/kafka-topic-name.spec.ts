import { KAFKA_TOPIC_MAX_CHARS, kafkaTopicNameProblem, kafkaTopicProblem, kafkaTopicTemplateProblem } from './kafka-topic-name';

const ALLOWED = "a Kafka topic name has only ASCII letters, digits, '.', '_' and '-'";

describe('kafkaTopicNameProblem', () => {
  it.each(['a', 'telemetry.site-1', 'bridge_dead-letter', '...', '.a', 'A'.repeat(249)])('accepts %j', (name) => {
    expect(kafkaTopicNameProblem(name)).toBeNull();
  });

  it('refuses what Kafka refuses: empty, "." and "..", longer than 249', () => {
    expect(KAFKA_TOPIC_MAX_CHARS).toBe(249);
    expect(kafkaTopicNameProblem('')).toBe('a Kafka topic name cannot be empty');
    expect(kafkaTopicNameProblem('.')).toBe('a Kafka topic cannot be named "."');
    expect(kafkaTopicNameProblem('..')).toBe('a Kafka topic cannot be named ".."');
    expect(kafkaTopicNameProblem('a'.repeat(250))).toBe('the name has 250 characters; Kafka allows at most 249');
  });

  it('names the first character outside [A-Za-z0-9._-], counting characters', () => {
    expect(kafkaTopicNameProblem('has space')).toBe(`character 4 " " (U+0020) is not allowed: ${ALLOWED}`);
    expect(kafkaTopicNameProblem('a/b')).toBe(`character 2 "/" (U+002F) is not allowed: ${ALLOWED}`);
    expect(kafkaTopicNameProblem('😀é')).toBe(`character 1 U+1F600 is not allowed: ${ALLOWED}`);
    expect(kafkaTopicNameProblem('ok\u0000')).toBe(`character 3 U+0000 is not allowed: ${ALLOWED}`);
  });
});

describe('kafkaTopicProblem', () => {
  it('quotes the name it refuses', () => {
    expect(kafkaTopicProblem('device.commands')).toBeNull();
    expect(kafkaTopicProblem('..')).toBe('invalid Kafka topic "..": a Kafka topic cannot be named ".."');
  });
});

describe('kafkaTopicTemplateProblem', () => {
  it.each(['telemetry.{site}', 'alarms', '{topic}', 'a.{level.1}.b'])('accepts %j', (template) => {
    expect(kafkaTopicTemplateProblem(template)).toBeNull();
  });

  it('checks a template without placeholders as the topic name every record gets', () => {
    expect(kafkaTopicTemplateProblem('has space')).toBe(`invalid Kafka topic "has space": character 4 " " (U+0020) is not allowed: ${ALLOWED}`);
    expect(kafkaTopicTemplateProblem('')).toBe('invalid Kafka topic "": a Kafka topic name cannot be empty');
    expect(kafkaTopicTemplateProblem('{{x}}')).toBe(`invalid Kafka topic "{{x}}": character 1 "{" (U+007B) is not allowed: ${ALLOWED}`);
  });

  it('refuses fixed text that every rendered name would carry', () => {
    expect(kafkaTopicTemplateProblem('telemetry/{site}')).toBe(
      `invalid Kafka topic template "telemetry/{site}": character 10 "/" (U+002F) of its fixed text is not allowed: ${ALLOWED}`,
    );
    expect(kafkaTopicTemplateProblem(`${'a'.repeat(250)}{site}`)).toMatch(
      /^invalid Kafka topic template "a+…" \(256 characters\): its fixed text alone has 250 characters; Kafka allows at most 249$/,
    );
  });

  it('leaves malformed braces to the template compiler', () => {
    expect(kafkaTopicTemplateProblem('a b{')).toBeNull();
  });
});
