import { Kafka } from 'kafkajs';
import { DeliveryFailedError, ShutdownError } from '@app/core';
import { KafkaClientFactory } from './kafka.client-factory';
import { kafkaConnectionSchema } from './kafka.schema';
import { RdkafkaClientFactory } from './rdkafka.client-factory';
import { RdkafkaConfig } from './rdkafka.config';
import { RD, RdkafkaDeliveryReport, RdkafkaError, RdkafkaHeaders } from './rdkafka.native';
import { RdkafkaWriter } from './rdkafka.writer';

const rdError = (code: number, message = `librdkafka error ${code}`, isFatal = false): RdkafkaError => Object.assign(new Error(message), { code, isFatal });

/** librdkafka's producer as the writer sees it: records are "sent" when produced and reported when the test says. */
class FakeProducer {
  readonly produced: Array<{ topic: string; partition: number | null; value: string; key: string | null; opaque: unknown; headers: RdkafkaHeaders }> = [];
  connectError?: RdkafkaError;
  full = false;
  disconnected = false;
  private readonly listeners: Record<string, (...args: unknown[]) => void> = {};

  constructor(readonly config: RdkafkaConfig) {}

  connect(_options: object, callback: (error: RdkafkaError | null) => void): void {
    setImmediate(() => callback(this.connectError ?? null));
  }
  setPollInBackground(): void {}
  produce(topic: string, partition: number | null, value: Buffer, key: string | null, _ts: number, opaque: unknown, headers: RdkafkaHeaders): void {
    if (this.full) throw rdError(RD.QUEUE_FULL, 'Local: Queue full');
    this.produced.push({ topic, partition, value: value.toString(), key, opaque, headers });
  }
  on(event: string, listener: (...args: unknown[]) => void): void {
    this.listeners[event] = listener;
  }
  flush(_timeout: number, callback: (error: null) => void): void {
    callback(null);
  }
  disconnect(_timeout: number, callback: () => void): void {
    this.disconnected = true;
    callback();
  }
  /** Reports the i-th produced record, delivered or failed. */
  report(i: number, error: RdkafkaError | null = null): void {
    const { topic, opaque } = this.produced[i];
    const report: RdkafkaDeliveryReport = { topic, partition: 0, offset: i, opaque };
    this.listeners['delivery-report'](error, report);
  }
  fail(error: RdkafkaError): void {
    this.listeners['event.error'](error);
  }
  get values(): string[] {
    return this.produced.map((p) => p.value);
  }
}

function setup(overrides: Record<string, unknown> = {}, prepare: (producer: FakeProducer, n: number) => void = () => undefined) {
  const producers: FakeProducer[] = [];
  const rdkafka = {
    unavailable: undefined,
    eventCode: (error: RdkafkaError) => error.code,
    createProducer: (config: RdkafkaConfig) => {
      const producer = new FakeProducer(config);
      prepare(producer, producers.length);
      producers.push(producer);
      return producer;
    },
  } as unknown as RdkafkaClientFactory;
  const kafkajs = { createClient: () => ({}) as Kafka } as KafkaClientFactory;
  const config = kafkaConnectionSchema.parse({ brokers: ['k:9092'], producer: { client: 'librdkafka', retry: { initialMs: 1, maxMs: 2 }, ...overrides } });
  const retried: string[] = [];
  const writer = new RdkafkaWriter(rdkafka, kafkajs, config, (records) => retried.push(...records.map((r) => r.value.toString())));
  return { writer, producers, retried };
}

const idempotent = { acks: 'all', idempotent: true } as const;
const record = (value: string, key: string | null = 'k') => ({
  topic: 't',
  key,
  value: Buffer.from(value),
  headers: { 'mqtt.topic': 'a/b', multi: ['x', Buffer.from('y')] },
});
const settled = (promise: Promise<void>) =>
  promise.then(
    () => 'ok',
    (error: unknown) => error,
  );
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('RdkafkaWriter', () => {
  it('resolves each write on its delivery report, with its key, partition and every header value', async () => {
    const { writer, producers } = setup();
    const first = settled(writer.write(record('a'), idempotent));
    const second = settled(writer.write({ ...record('b', null), partition: 2 }, idempotent));
    await tick();
    const [producer] = producers;
    expect(producer.config).toMatchObject({ acks: -1, 'enable.idempotence': true, 'linger.ms': 20 });
    expect(producer.produced.map(({ value, key, partition, headers }) => ({ value, key, partition, headers }))).toEqual([
      { value: 'a', key: 'k', partition: null, headers: [{ 'mqtt.topic': 'a/b' }, { multi: 'x' }, { multi: Buffer.from('y') }] },
      { value: 'b', key: null, partition: 2, headers: [{ 'mqtt.topic': 'a/b' }, { multi: 'x' }, { multi: Buffer.from('y') }] },
    ]);
    expect(writer.queued).toBe(2);
    producer.report(1);
    producer.report(0);
    expect(await Promise.all([first, second])).toEqual(['ok', 'ok']);
    expect(writer.queued).toBe(0);
    expect(writer.reachable).toBe(true);
  });

  it("keeps records in order while the producer is not connected yet, and while librdkafka's queue is full", async () => {
    const { writer, producers } = setup({}, (producer, n) => {
      if (n === 0) producer.connectError = rdError(RD.TRANSPORT, 'Local: Broker transport failure');
    });
    const results = ['a', 'b'].map((v) => settled(writer.write(record(v), idempotent)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(producers).toHaveLength(2);
    const producer = producers[1];
    expect(producer.values).toEqual(['a', 'b']);
    producer.full = true;
    results.push(settled(writer.write(record('c'), idempotent)));
    results.push(settled(writer.write(record('d'), idempotent)));
    producer.full = false;
    // 'd' must not overtake 'c', which waits for room.
    results.push(settled(writer.write(record('e'), idempotent)));
    expect(producer.values).toEqual(['a', 'b']);
    producer.report(0);
    expect(producer.values).toEqual(['a', 'b', 'c', 'd', 'e']);
    for (let i = 1; i < 5; i++) producer.report(i);
    expect(await Promise.all(results)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
  });

  it('replaces a producer that failed for good and gives the new one every unconfirmed record in order; late reports of the old one are ignored', async () => {
    const { writer, producers, retried } = setup();
    const results = ['a', 'b', 'c'].map((v) => settled(writer.write(record(v), idempotent)));
    await tick();
    const [old] = producers;
    old.report(0);
    // As the binding hands it over: the underlying code (restored from its text), no fatal flag.
    old.fail(rdError(RD.OUT_OF_ORDER_SEQUENCE_NUMBER, 'broker received an out of order sequence number'));
    results.push(settled(writer.write(record('d'), idempotent)));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(old.disconnected).toBe(true);
    expect(retried).toEqual(['b', 'c']);
    const replacement = producers[1];
    expect(replacement.values).toEqual(['b', 'c', 'd']);
    // The old producer's report of 'b' no longer settles it: only the new producer's does.
    old.report(1, rdError(RD.PURGE_INFLIGHT, 'Local: Purged in flight'));
    for (let i = 0; i < 3; i++) replacement.report(i);
    expect(await Promise.all(results)).toEqual(['ok', 'ok', 'ok', 'ok']);
  });

  it('takes a record librdkafka purged while the writer is open for a failed producer: replaced, the record sent again', async () => {
    const { writer, producers, retried } = setup();
    const result = settled(writer.write(record('a'), idempotent));
    await tick();
    producers[0].report(0, rdError(RD.PURGE_QUEUE, 'Local: Purged in queue'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(retried).toEqual(['a']);
    expect(producers[1].values).toEqual(['a']);
    producers[1].report(0);
    expect(await result).toBe('ok');
  });

  it('takes an idempotence error in a delivery report for a failed producer, not for a refused record', async () => {
    const { writer, producers } = setup();
    const result = settled(writer.write(record('a'), idempotent));
    await tick();
    producers[0].report(0, rdError(RD.UNKNOWN_PRODUCER_ID, 'Broker: Unknown producer id'));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(producers[1].values).toEqual(['a']);
    producers[1].report(0);
    expect(await result).toBe('ok');
  });

  it('stops replacing failed producers where the retry policy ends, and fails the records', async () => {
    const { writer, producers } = setup({ retry: { initialMs: 1, maxMs: 2, maxAttempts: 2 } });
    const result = settled(writer.write(record('a'), idempotent));
    for (let i = 0; i < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      producers[i].report(producers[i].produced.length - 1, rdError(RD.PURGE_QUEUE, 'Local: Purged in queue'));
    }
    expect(await result).toMatchObject({ code: 'destination-unavailable', retriable: true, attempts: 2 });
    expect(producers).toHaveLength(2);
  });

  it('fails the records at once when an idempotent producer is refused for good (no IDEMPOTENT_WRITE permission)', async () => {
    const { writer, producers } = setup();
    const result = settled(writer.write(record('a'), idempotent));
    await tick();
    producers[0].fail(rdError(RD.CLUSTER_AUTHORIZATION_FAILED, 'broker: cluster authorization failed'));
    expect(await result).toMatchObject({ code: 'not-authorized', retriable: false });
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(producers).toHaveLength(1);
  });

  it('rejects writes, now and later, when librdkafka refuses the configuration, instead of leaving them waiting', async () => {
    const { writer } = setup({}, () => {
      throw new Error('Configuration property "batch.size" value 3000000000 is outside allowed range');
    });
    for (const value of ['a', 'b']) {
      expect(await settled(writer.write(record(value), idempotent))).toMatchObject({ code: 'invalid-config', retriable: false });
    }
    await writer.close(50);
  });

  it('counts the records a producer holds once per connection failure it reports', async () => {
    const { writer, producers, retried } = setup();
    void writer.write(record('a'), idempotent);
    void writer.write(record('b'), idempotent);
    await tick();
    producers[0].fail(rdError(RD.ALL_BROKERS_DOWN, 'all broker connections are down'));
    producers[0].fail(rdError(RD.TRANSPORT, 'broker transport failure'));
    expect(retried).toEqual(['a', 'b', 'a', 'b']);
    expect(writer.reachable).toBe(false);
  });

  it('fails a record Kafka refuses for good as not retriable, and one librdkafka gave up on as retriable', async () => {
    const { writer, producers } = setup({ retry: { initialMs: 1, maxMs: 2, maxAttempts: 3 } });
    const refused = settled(writer.write(record('big'), idempotent));
    const timedOut = settled(writer.write(record('late'), idempotent));
    await tick();
    producers[0].report(0, rdError(RD.MSG_SIZE_TOO_LARGE, 'Broker: Message size too large'));
    producers[0].report(1, rdError(RD.MSG_TIMED_OUT, 'Local: Message timed out'));
    const [rejected, unavailable] = (await Promise.all([refused, timedOut])) as DeliveryFailedError[];
    expect(rejected).toBeInstanceOf(DeliveryFailedError);
    expect({ code: rejected.code, retriable: rejected.retriable, attempts: rejected.attempts }).toEqual({
      code: 'record-too-large',
      retriable: false,
      attempts: 1,
    });
    expect({ code: unavailable.code, retriable: unavailable.retriable, attempts: unavailable.attempts }).toEqual({
      code: 'destination-unavailable',
      retriable: true,
      attempts: 3,
    });
    expect(writer.reachable).toBe(false);
  });

  it('refuses a record over maxMessageBytes before librdkafka sees it', async () => {
    const { writer, producers } = setup({ maxMessageBytes: 1024 });
    const error = await settled(writer.write(record('x'.repeat(2_000)), idempotent));
    expect(error).toMatchObject({ code: 'record-too-large', retriable: false });
    expect(producers).toHaveLength(0);
  });

  it('fails the records waiting for a connection once the retry policy gives up, and connects again for later records', async () => {
    const { writer, producers } = setup({ retry: { initialMs: 1, maxMs: 2, maxAttempts: 2 } }, (producer, n) => {
      if (n < 2) producer.connectError = rdError(RD.ALL_BROKERS_DOWN, 'Local: All broker connections are down');
    });
    const error = await settled(writer.write(record('a'), idempotent));
    expect(error).toBeInstanceOf(DeliveryFailedError);
    expect(error).toMatchObject({ code: 'destination-unavailable', attempts: 2 });
    const later = settled(writer.write(record('b'), idempotent));
    await new Promise((resolve) => setTimeout(resolve, 20));
    producers[2].report(0);
    expect(await later).toBe('ok');
  });

  it('one producer per delivery setting: acks 1 without idempotence sends one request at a time', async () => {
    const { writer, producers } = setup();
    void writer.write(record('a'), idempotent);
    void writer.write(record('b'), { acks: 1, idempotent: false });
    await tick();
    expect(producers.map((p) => [p.config.acks, p.config['enable.idempotence'], p.config['max.in.flight.requests.per.connection'], p.values])).toEqual([
      [-1, true, 5, ['a']],
      [1, false, 1, ['b']],
    ]);
  });

  it('close() waits for records in flight, then rejects what is left with a ShutdownError and disconnects', async () => {
    const { writer, producers } = setup();
    const done = settled(writer.write(record('a'), idempotent));
    const left = settled(writer.write(record('b'), idempotent));
    await tick();
    setTimeout(() => producers[0].report(0), 5);
    await writer.close(50);
    expect(await done).toBe('ok');
    expect(await left).toBeInstanceOf(ShutdownError);
    expect(producers[0].disconnected).toBe(true);
    expect(await settled(writer.write(record('c'), idempotent))).toBeInstanceOf(ShutdownError);
  });
});
