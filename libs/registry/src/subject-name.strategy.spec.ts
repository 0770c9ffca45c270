import { subjectName } from './subject-name.strategy';

describe('subject name strategies', () => {
  const parts = { topic: 'telemetry', recordName: 'iot.v1.Reading' };

  it('names subjects as Confluent serialisers do', () => {
    expect(subjectName('topic', parts)).toBe('telemetry-value');
    expect(subjectName('topic', { ...parts, isKey: true })).toBe('telemetry-key');
    expect(subjectName('record', parts)).toBe('iot.v1.Reading');
    expect(subjectName('topic-record', parts)).toBe('telemetry-iot.v1.Reading');
  });

  it('keeps a record subject the same across topics, so one schema serves them all', () => {
    expect(subjectName('record', { ...parts, topic: 'other' })).toBe(subjectName('record', parts));
    expect(subjectName('topic-record', { ...parts, topic: 'other' })).not.toBe(subjectName('topic-record', parts));
  });
});
