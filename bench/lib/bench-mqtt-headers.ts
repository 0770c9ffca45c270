import { MQTT_HEADER_MODES, MqttHeaderMode } from '@app/kafka';

/**
 * `BENCH_MQTT_HEADERS` (all | minimal | none, default all): the bridge cases' `mqttHeaders`, and
 * the headers of limit B's and the ceiling's records, which stand for the bridge's.
 */
export function benchMqttHeaders(): MqttHeaderMode {
  const value = process.env.BENCH_MQTT_HEADERS ?? 'all';
  const mode = MQTT_HEADER_MODES.find((m) => m === value);
  if (!mode) throw new Error(`BENCH_MQTT_HEADERS must be one of ${MQTT_HEADER_MODES.join(', ')}, got ${value}`);
  return mode;
}
