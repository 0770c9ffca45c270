import { utf8 } from './bytes';
import { CRYPTO_REASONS, CryptoError } from './crypto.errors';
import { EnvelopeSealer } from './envelope.sealer';
import { Keyring } from './keyring';
import { hex, readySodium, testEntries } from './testing/test-keys';

/*
 * Random and mutated envelopes through EnvelopeSealer.open. The property: an input opens only
 * when it is byte for byte a genuine envelope (and then yields its plaintext); everything else
 * throws CryptoError. The choice of mutations is seeded (CRYPTO_FUZZ_SEED explores others); the
 * pool envelopes carry fresh nonces and ephemeral keys each run, so reason counts vary slightly,
 * and a failure message includes the offending input in hex to replay it.
 */

const ITERATIONS = 100_000;
const SEED = Number(process.env.CRYPTO_FUZZ_SEED ?? 0x5eed_c0de);
const TOPIC = 'site/7/line/3/telemetry';

/** mulberry32: tiny, fast and good enough to pick mutations. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (source: Uint8Array) => Uint8Array;

function mutations(random: () => number, pool: readonly Uint8Array[]): [string, number, Mutation][] {
  const int = (n: number): number => Math.floor(random() * n);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => int(256));
  const pick = (): Uint8Array => pool[int(pool.length)];
  // [name, weight, mutation]
  return [
    ['unmodified', 5, (s) => s],
    ['random bytes', 8, () => bytes(int(120))],
    ['random after a v1 prefix', 7, () => Uint8Array.from([1, 1 + int(2), int(2), ...bytes(int(120))])],
    [
      'byte flips',
      35,
      (s) => {
        const out = s.slice();
        for (let n = 1 + int(3); n > 0; n--) out[int(out.length)] ^= 1 + int(255);
        return out;
      },
    ],
    ['truncation', 12, (s) => s.slice(0, int(s.length))],
    ['extension', 10, (s) => Uint8Array.from([...s, ...bytes(1 + int(16))])],
    [
      'splice',
      13,
      (s) => {
        const other = pick();
        return Uint8Array.from([...s.subarray(0, int(s.length + 1)), ...other.subarray(int(other.length + 1))]);
      },
    ],
    [
      'insert or delete a byte',
      10,
      (s) => {
        const at = int(s.length);
        return random() < 0.5
          ? Uint8Array.from([...s.subarray(0, at), int(256), ...s.subarray(at)])
          : Uint8Array.from([...s.subarray(0, at), ...s.subarray(at + 1)]);
      },
    ],
  ];
}

it(`fuzzes open() with ${ITERATIONS} random and mutated envelopes (seed ${SEED})`, async () => {
  const sodium = await readySodium();
  const sealer = new EnvelopeSealer(sodium);
  const keyring = Keyring.from(testEntries(sodium));
  const random = prng(SEED);

  const genuine = new Map<string, string>();
  const pool: Uint8Array[] = [];
  for (const keyName of ['sym', 'box']) {
    for (const topic of [TOPIC, undefined]) {
      for (const size of [0, 1, 5, 16]) {
        const plaintext = utf8(`${keyName}:${size}:`.padEnd(size, '#').slice(0, size));
        const envelope = sealer.seal(plaintext, { keyring, keyName, topic });
        pool.push(envelope);
        genuine.set(hex(envelope), hex(plaintext));
      }
    }
  }

  const table = mutations(random, pool);
  const totalWeight = table.reduce((sum, [, weight]) => sum + weight, 0);
  const byMutation = new Map<string, number>();
  const outcomes = new Map<string, number>();
  const count = (map: Map<string, number>, key: string): void => {
    map.set(key, (map.get(key) ?? 0) + 1);
  };
  let expectedOpens = 0;
  const failures: string[] = [];
  const started = Date.now();

  for (let i = 0; i < ITERATIONS; i++) {
    let roll = random() * totalWeight;
    const [name, , mutate] = table.find(([, weight]) => (roll -= weight) < 0) ?? table[0];
    count(byMutation, name);
    const input = mutate(pool[Math.floor(random() * pool.length)]);
    const expected = genuine.get(hex(input));
    if (expected !== undefined) expectedOpens++;
    let opened = false;
    try {
      const { plaintext } = sealer.open(input, { keyring, topic: TOPIC, requireTopicBinding: false });
      opened = true;
      count(outcomes, 'opened');
      if (hex(plaintext) !== expected) failures.push(`#${i} (${name}) opened a non-genuine input: ${hex(input)}`);
    } catch (error) {
      if (error instanceof CryptoError && CRYPTO_REASONS.includes(error.code)) count(outcomes, error.code);
      else {
        count(outcomes, 'non-CryptoError');
        failures.push(`#${i} (${name}) threw ${String(error)} for ${hex(input)}`);
      }
    }
    if (expected !== undefined && !opened) failures.push(`#${i} genuine envelope refused`);
  }

  const elapsed = Date.now() - started;
  const total = [...outcomes.values()].reduce((a, b) => a + b, 0);
  console.info(
    `envelope fuzz, seed ${SEED}: ${ITERATIONS} inputs in ${elapsed} ms\n` +
      `  mutations: ${JSON.stringify(Object.fromEntries(byMutation))}\n` +
      `  outcomes:  ${JSON.stringify(Object.fromEntries(outcomes))}`,
  );
  expect(failures.slice(0, 5)).toEqual([]);
  expect(total).toBe(ITERATIONS);
  expect(outcomes.get('non-CryptoError')).toBeUndefined();
  expect(outcomes.get('opened')).toBe(expectedOpens);
  // The mutations must reach every stage of open(), or the property above proves little.
  const stages = ['envelope-malformed', 'envelope-version', 'envelope-algorithm', 'key-unknown', 'topic-mismatch', 'decrypt-failed'];
  for (const reason of stages) {
    expect([reason, (outcomes.get(reason) ?? 0) > 0]).toEqual([reason, true]);
  }
}, 60_000);
