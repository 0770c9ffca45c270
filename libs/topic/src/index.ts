export * from './topic-filter';
export * from './template';
export type { RecordFields } from './record-fields';
export { byteLengthProblem, mqttStringProblem } from './mqtt-string';
export { quote } from './quote';
