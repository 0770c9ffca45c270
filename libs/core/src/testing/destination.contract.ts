import { describe, expect, it } from '@jest/globals';
import { ShutdownError } from '../bridge.error';
import { Destination, OutboundRecord } from '../destination';

/** A destination under test and the broker behind it. */
export interface ContractSubject {
  readonly destination: Destination;
  /** Whether the broker now holds `payload`, written by this destination. */
  delivered(payload: string): Promise<boolean>;
  /** Starts the broker a destination created `down` points at (when the flavour says it can). */
  bringUp?(): Promise<void>;
  /** Makes the connected broker stop confirming, so writes retry or wait (when the flavour says it can). */
  stall?(): Promise<void>;
  /** Releases what the flavour started (brokers, clients, queues); the contract closes the destination itself. */
  dispose?(): Promise<void>;
}

/** One flavour of one destination type: fakes behind the client seam (unit) or the real broker (e2e). */
export interface DestinationContract {
  /** A destination (not connected yet) whose broker is reachable, or, with `down`, whose address has nothing listening. */
  create(options: { down: boolean }): Promise<ContractSubject>;
  /** How long a ShutdownError may take after close() and still count as prompt. */
  readonly promptMs?: number;
  /** How long a write may take once its broker is there. */
  readonly deliveryMs?: number;
  /** The flavour can start a broker later where a `down` destination points (otherwise that case is skipped). */
  readonly bringsUp: boolean;
  /** The flavour can stall a connected broker (otherwise that case is skipped). */
  readonly stalls: boolean;
  /**
   * close() ends the destination's own waiting writes (default true). False for Kafka: every
   * Kafka destination writes through the worker's one KafkaWriter, whose close ends them.
   */
  readonly closeEndsPendingWrites?: boolean;
}

/** Long enough for a wrongly settled write to show itself, short enough for many cases. */
const PENDING_MS = 300;

/**
 * The Destination contract (libs/core/src/destination.ts), the same cases for every destination
 * type; each type's unit spec and the e2e contract spec call this with their own flavour.
 */
export function describeDestinationContract(type: string, contract: DestinationContract): void {
  const promptMs = contract.promptMs ?? 500;
  const deliveryMs = contract.deliveryMs ?? 5_000;

  /** Runs `body` on a fresh subject and always closes the destination and releases the flavour. */
  async function withSubject(down: boolean, body: (subject: ContractSubject) => Promise<void>): Promise<void> {
    const subject = await contract.create({ down });
    try {
      await body(subject);
    } finally {
      await subject.destination.close();
      await subject.dispose?.();
    }
  }

  describe(`${type} destination contract`, () => {
    it('write resolves once the broker holds the record, and the destination is up', async () => {
      await withSubject(false, async ({ destination, delivered }) => {
        await destination.connect();
        await within(destination.write(contractRecord('confirmed')), deliveryMs, 'the confirmed write');
        expect(await delivered('confirmed')).toBe(true);
        expect(destination.up).toBe(true);
      });
    });

    it('a write after close() rejects with a ShutdownError', async () => {
      await withSubject(false, async ({ destination, delivered }) => {
        await destination.connect();
        await within(destination.write(contractRecord('before-close')), deliveryMs, 'the write before close');
        await destination.close();
        const late = await settleWithin(destination.write(contractRecord('after-close')), promptMs);
        expect(late).toEqual({ state: 'rejected', error: expect.any(ShutdownError) });
        expect(await delivered('after-close')).toBe(false);
      });
    });

    it('connect() resolves at once while the broker is down, and the destination says it is not up', async () => {
      await withSubject(true, async ({ destination }) => {
        const started = Date.now();
        await destination.connect();
        expect(Date.now() - started).toBeLessThan(promptMs);
        expect(destination.up).toBe(false);
      });
    });

    (contract.closeEndsPendingWrites === false ? it.skip : it)(
      'a write waiting for a broker that is down rejects promptly with a ShutdownError at close()',
      async () => {
        await withSubject(true, async ({ destination }) => {
          await destination.connect();
          const write = destination.write(contractRecord('during-outage'));
          expect((await settleWithin(write, PENDING_MS)).state).toBe('pending');
          // Measured from the call: close() itself may wait for the broker to see a disconnect.
          const closing = destination.close();
          expect(await settleWithin(write, promptMs)).toEqual({ state: 'rejected', error: expect.any(ShutdownError) });
          await closing;
        });
      },
    );

    (contract.bringsUp ? it : it.skip)('a write issued while the broker is down is delivered once the broker comes up', async () => {
      await withSubject(true, async (subject) => {
        const { destination, delivered } = subject;
        await destination.connect();
        const write = destination.write(contractRecord('after-outage'));
        expect((await settleWithin(write, PENDING_MS)).state).toBe('pending');
        await subject.bringUp!();
        await within(write, deliveryMs, 'the write once the broker is up');
        expect(await delivered('after-outage')).toBe(true);
        expect(destination.up).toBe(true);
      });
    });

    (contract.stalls ? it : it.skip)(
      'a write retrying against a connected broker that stopped confirming rejects promptly with a ShutdownError at close()',
      async () => {
        await withSubject(false, async (subject) => {
          const { destination } = subject;
          await destination.connect();
          await within(destination.write(contractRecord('warm-up')), deliveryMs, 'the first write');
          await subject.stall!();
          const write = destination.write(contractRecord('stalled'));
          expect((await settleWithin(write, PENDING_MS)).state).toBe('pending');
          // Measured from the call: close() itself may wait for the broker to see a disconnect.
          const closing = destination.close();
          expect(await settleWithin(write, promptMs)).toEqual({ state: 'rejected', error: expect.any(ShutdownError) });
          await closing;
        });
      },
    );
  });
}

/**
 * A record as a rule hands it over. Retained, so that a broker that holds only what was
 * retained (MQTT, for a subscriber that arrives after the broker came up) still shows it.
 */
export function contractRecord(payload: string): OutboundRecord {
  const topic = 'contract/in';
  return {
    message: { topic, payload: Buffer.from(payload), qos: 1, retain: true, properties: {}, receivedAt: 0 },
    rule: 'contract',
    context: { topic, levels: topic.split('/'), captures: {}, qos: 1, rule: 'contract', clientId: 'contract' },
    payload: () => Buffer.from(payload),
    headers: {},
  };
}

type Settled = { state: 'pending' } | { state: 'resolved' } | { state: 'rejected'; error: unknown };

/** Where `promise` stands after `ms` (without failing the test if it rejects later). */
export async function settleWithin(promise: Promise<unknown>, ms: number): Promise<Settled> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<Settled>((resolve) => (timer = setTimeout(() => resolve({ state: 'pending' }), ms)));
  const outcome = promise.then(
    (): Settled => ({ state: 'resolved' }),
    (error: unknown): Settled => ({ state: 'rejected', error }),
  );
  try {
    return await Promise.race([outcome, pending]);
  } finally {
    clearTimeout(timer);
  }
}

async function within(promise: Promise<unknown>, ms: number, what: string): Promise<void> {
  const outcome = await settleWithin(promise, ms);
  if (outcome.state === 'rejected') throw outcome.error;
  if (outcome.state === 'pending') throw new Error(`${what} did not settle within ${ms} ms`);
}
