import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigReference } from './config-reference';

const REFERENCE_PATH = join(__dirname, '../../../docs/configuration-reference.md');

describe('docs/configuration-reference.md', () => {
  const generated = renderConfigReference();

  it('is what npm run config-schema generates from bridgeConfigSchema (run it after changing the schema)', () => {
    if (readFileSync(REFERENCE_PATH, 'utf8') !== generated) {
      throw new Error('docs/configuration-reference.md is stale: bridgeConfigSchema changed. Run `npm run config-schema` and commit the file.');
    }
  });

  it('lists nested fields with type, requirement, default and allowed values', () => {
    expect(generated).toContain('| `mqtt.keepaliveSeconds` | integer |  | `30` | ≥ 0; ≤ 65535 |');
    expect(generated).toContain('| `rules[].process.input` | string |  | `"json"` | `"json"`, `"cbor"`, `"text"`, `"raw"`, `"avro"`, `"protobuf"` |');
    expect(generated).toContain('| `rules[].transform.replayWindow.seconds` | integer | yes |  | ≥ 1; ≤ 86400 |');
  });

  it('gives each kind of destination and dead letter its own fields', () => {
    expect(generated).toContain('| `rules[].destinations[] (type: amqp).routingKey` | string | yes |  | not empty |');
    expect(generated).toContain('| `rules[].destinations[] (type: nats).subject` | string | yes |  | not empty |');
    // The loader fills in type: kafka, so a Kafka dead letter may leave it out.
    expect(generated).toContain('| `deadLetter (type: kafka).type` | "kafka" |  |  |  |');
  });
});
