import { BridgeMessage } from '@app/core';
import { compileProcess, processSchema, TransformProgram } from '@app/transform';
import { matchTopic, parseTopicFilter, TemplateContext } from '@app/topic';

/**
 * The typical rule of issue 16 item 7: decode a JSON document of about 256 bytes, filter on one
 * field, rename two, compute two, encode JSON again. The filter keeps every benchmark message,
 * so each one pays for every step.
 */
export const TYPICAL_PROCESS = {
  input: 'json',
  steps: [
    { filter: 'payload.t > -40.0' },
    { rename: { t: 'celsius', rh: 'humidity' } },
    { enrich: { fahrenheit: 'payload.celsius * 9.0 / 5.0 + 32.0', condensing: 'payload.humidity > 95.0 || payload.celsius < 2.0' } },
  ],
} as const;

export const FILTER = 'sensors/{site}/{device}/env';
export const TOPIC = 'sensors/lyon/th-0042/env';

/** A reading as a field device sends it: a few numbers, identifiers and a time stamp. */
const DOCUMENT = {
  t: 21.5,
  rh: 40.2,
  pressure: 1013.25,
  co2: 612,
  voc: 0.42,
  battery: 3.71,
  rssi: -67,
  seq: 184467,
  uptime: 86412,
  fw: '2.3.1',
  model: 'TH-200',
  serial: 'TH200-0042-7F3A',
  ts: '2026-11-27T15:47:39.728Z',
  status: { door: 'closed', tamper: false, alarms: 0 },
};

export const DOCUMENT_BYTES = Buffer.from(JSON.stringify(DOCUMENT));

export function compileTypicalProcess(): TransformProgram {
  const { program, problems } = compileProcess(processSchema.parse(TYPICAL_PROCESS), () => {
    throw new Error('the benchmark rule reads no schema file');
  });
  if (!program) throw new Error(`the benchmark rule does not compile: ${problems.map((p) => `${p.path.join('.')}: ${p.message}`).join('; ')}`);
  return program;
}

/** A received message carrying `payload`, as the MQTT source hands it to the pipeline. */
export function messageOf(payload: Buffer): BridgeMessage {
  return { topic: TOPIC, payload, qos: 1, retain: false, properties: {}, receivedAt: performance.now() };
}

/** What the pipeline computes once per message and rule before the transformer runs. */
export function contextOf(rule: string): TemplateContext {
  const captures = matchTopic(parseTopicFilter(FILTER), TOPIC);
  if (!captures) throw new Error(`${TOPIC} does not match ${FILTER}`);
  return { topic: TOPIC, levels: TOPIC.split('/'), captures, qos: 1, rule, clientId: 'bench-worker' };
}
