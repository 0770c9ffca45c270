/*
 * Envelope seal/open/re-encrypt micro-benchmark, per message, both algorithms, topic-bound, beside
 * libsodium's own cost for the same work (its functions called directly on preallocated
 * WebAssembly heap buffers: the floor no envelope code can go under).
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/crypto.bench.ts [--rounds N] [--only TEXT]
 *   --rounds N   interleaved rounds (default 1; use 5 or more on a shared machine): the table shows
 *                the median, the range over rounds and the process CPU time per message
 *   --only TEXT  only the cases whose "algorithm bytes" contains TEXT (e.g. "xchacha20poly1305 256")
 * Iteration counts are fixed (comparable across runs and machines) and sized for about one
 * second each on a 2-core CI runner. Writes bench/results/crypto.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { decodeEnvelope, EnvelopeSealer, generateKeyEntry, Keyring, SodiumProvider, type Sodium } from '@app/crypto';
import { markdownTable } from './lib/markdown-table';

type Algorithm = 'xchacha20poly1305' | 'sealedbox';
type Operation = 'seal' | 'open' | 'reencrypt';
/** `envelope`: EnvelopeSealer; `libsodium`: the floor, libsodium's functions on preallocated heap buffers. */
type Code = 'envelope' | 'libsodium';

/** [algorithm, payload bytes, seal iterations, open iterations]; re-encrypt runs the smaller count. */
const CASES: readonly [Algorithm, number, number, number][] = [
  ['xchacha20poly1305', 64, 100_000, 300_000],
  ['xchacha20poly1305', 256, 100_000, 200_000],
  ['xchacha20poly1305', 1024, 70_000, 120_000],
  ['xchacha20poly1305', 65536, 5_000, 6_000],
  ['sealedbox', 64, 4_000, 10_000],
  ['sealedbox', 1024, 4_000, 9_000],
  ['sealedbox', 65536, 2_000, 3_000],
];
const WARM_UP_FRACTION = 0.1;
/** Devices publish on TOPIC; re-encryption seals again for consumers, bound to the Kafka topic. */
const TOPIC = 'site/7/line/3/telemetry';
const OUT_TOPIC = 'telemetry.sealed';

interface Measurement {
  algorithm: Algorithm;
  bytes: number;
  operation: Operation;
  code: Code;
  iterations: number;
  run: () => void;
  wallUs: number[];
  cpuUs: number[];
}

interface Result {
  algorithm: Algorithm;
  bytes: number;
  operation: Operation;
  code: Code;
  iterations: number;
  rounds: number;
  /** Median over rounds of wall-clock µs per operation; usMin..usMax is the range. */
  usPerOp: number;
  usMin: number;
  usMax: number;
  /** Median over rounds of process CPU µs (user + system) per operation. */
  cpuUsPerOp: number;
  opsPerSec: number;
  mbPerSec: number;
}

/** The Emscripten module under libsodium-wrappers, for the floor. */
interface SodiumModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
  _crypto_aead_xchacha20poly1305_ietf_encrypt(...args: number[]): number;
  _crypto_aead_xchacha20poly1305_ietf_decrypt(...args: number[]): number;
  _crypto_box_seal(...args: number[]): number;
  _crypto_box_seal_open(...args: number[]): number;
}

function options(argv: readonly string[]): { rounds: number; only?: string } {
  if (argv.includes('--help')) {
    console.log('usage: npm run bench:crypto -- [--rounds N] [--only "xchacha20poly1305 256"]');
    process.exit(0);
  }
  const value = (flag: string): string | undefined => {
    const at = argv.indexOf(flag);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const rounds = Number(value('--rounds') ?? 1);
  if (!Number.isInteger(rounds) || rounds < 1) throw new Error('--rounds must be a positive integer');
  return { rounds, only: value('--only') };
}

function measure(m: Measurement): void {
  for (let i = Math.ceil(m.iterations * WARM_UP_FRACTION); i > 0; i--) m.run();
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < m.iterations; i++) m.run();
  const wall = Number(process.hrtime.bigint() - start) / 1e3;
  const used = process.cpuUsage(cpu);
  m.wallUs.push(wall / m.iterations);
  m.cpuUs.push((used.user + used.system) / m.iterations);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function result(m: Measurement): Result {
  const usPerOp = median(m.wallUs);
  return {
    algorithm: m.algorithm,
    bytes: m.bytes,
    operation: m.operation,
    code: m.code,
    iterations: m.iterations,
    rounds: m.wallUs.length,
    usPerOp: round(usPerOp, 2),
    usMin: round(Math.min(...m.wallUs), 2),
    usMax: round(Math.max(...m.wallUs), 2),
    cpuUsPerOp: round(median(m.cpuUs), 2),
    opsPerSec: Math.round(1e6 / usPerOp),
    mbPerSec: round(m.bytes / usPerOp, 1),
  };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function fixed(us: number): string {
  return us.toFixed(2);
}

function table(results: readonly Result[]): string {
  const header = ['algorithm', 'payload', 'op', 'code', 'iterations', 'µs/op', 'range µs', 'CPU µs/op', 'ops/s', 'MB/s'];
  const rows = results.map((r) =>
    [
      r.algorithm,
      `${r.bytes} B`,
      r.operation,
      r.code,
      `${r.iterations}×${r.rounds}`,
      fixed(r.usPerOp),
      `${fixed(r.usMin)}–${fixed(r.usMax)}`,
      fixed(r.cpuUsPerOp),
      r.opsPerSec,
      r.mbPerSec,
    ].map(String),
  );
  return markdownTable(header, rows, 4);
}

/** EnvelopeSealer: seal bound to TOPIC, open on TOPIC, and open + seal again for a second key bound to OUT_TOPIC. */
function envelopeCases(sealer: EnvelopeSealer, keyring: Keyring, algorithm: Algorithm, plaintext: Uint8Array): Record<Operation, () => void> {
  const keyName = algorithm === 'xchacha20poly1305' ? 'bench-sym' : 'bench-box';
  const sealOptions = { keyring, keyName, topic: TOPIC };
  const envelope = sealer.seal(plaintext, sealOptions);
  const openOptions = { keyring, expectedKeyName: keyName, topic: TOPIC, requireTopicBinding: true };
  const resealOptions = { keyring, keyName: `${keyName}-out`, topic: OUT_TOPIC };
  return {
    seal: () => sealer.seal(plaintext, sealOptions),
    open: () => sealer.open(envelope, openOptions).plaintext.fill(0),
    reencrypt: () => {
      // What a reencrypt rule does per message: open, seal for consumers, wipe the plaintext.
      const opened = sealer.open(envelope, openOptions);
      sealer.seal(opened.plaintext, resealOptions);
      opened.plaintext.fill(0);
    },
  };
}

/**
 * libsodium alone on the same sizes: message, associated data (header and topic) or sealed-box
 * inner layout, all already in the heap; nothing allocated, copied or checked per call.
 */
function floorCases(sodium: Sodium, algorithm: Algorithm, bytes: number, headerLength: number): { cases: Record<Operation, () => void>; free: () => void } {
  const wasm = (sodium as unknown as { libsodium: SodiumModule }).libsodium;
  const fail = (what: string): never => {
    throw new Error(`floor: ${what} failed`);
  };
  const blocks: number[] = [];
  const block = (size: number, bytesIn?: Uint8Array): number => {
    const address = wasm._malloc(Math.max(1, size));
    blocks.push(address);
    wasm.HEAPU8.set(bytesIn ?? sodium.randombytes_buf(size), address);
    return address;
  };
  const free = (): void => blocks.forEach((address) => wasm._free(address));
  if (algorithm === 'xchacha20poly1305') {
    const key = block(32);
    const nonce = block(24);
    const adLength = headerLength + TOPIC.length;
    const ad = block(adLength);
    const message = block(bytes);
    const ciphertext = block(bytes + 16);
    const seal = (): void => {
      if (wasm._crypto_aead_xchacha20poly1305_ietf_encrypt(ciphertext, 0, message, bytes, 0, ad, adLength, 0, 0, nonce, key) !== 0) fail('encrypt');
    };
    const open = (): void => {
      if (wasm._crypto_aead_xchacha20poly1305_ietf_decrypt(message, 0, 0, ciphertext, bytes + 16, 0, ad, adLength, 0, nonce, key) !== 0) fail('decrypt');
    };
    seal();
    return { cases: { seal, open, reencrypt: () => (open(), seal()) }, free };
  }
  const pair = sodium.crypto_box_keypair();
  const publicKey = block(32, pair.publicKey);
  const secretKey = block(32, pair.privateKey);
  const innerLength = headerLength + 2 + TOPIC.length + bytes;
  const inner = block(innerLength);
  const box = block(innerLength + 48);
  const seal = (): void => {
    if (wasm._crypto_box_seal(box, inner, innerLength, 0, publicKey) !== 0) fail('crypto_box_seal');
  };
  const open = (): void => {
    if (wasm._crypto_box_seal_open(inner, box, innerLength + 48, 0, publicKey, secretKey) !== 0) fail('crypto_box_seal_open');
  };
  seal();
  return { cases: { seal, open, reencrypt: () => (open(), seal()) }, free };
}

async function main(): Promise<void> {
  const { rounds, only } = options(process.argv.slice(2));
  const sodium = await new SodiumProvider().ready();
  const sealer = new EnvelopeSealer(sodium);
  const keyring = Keyring.from(
    (['bench-sym', 'bench-sym-out', 'bench-box', 'bench-box-out'] as const).map((name) =>
      generateKeyEntry(sodium, name, name.startsWith('bench-sym') ? 'symmetric' : 'sealed'),
    ),
  );
  const measurements: Measurement[] = [];
  const frees: (() => void)[] = [];
  for (const [algorithm, bytes, sealIterations, openIterations] of CASES) {
    if (only !== undefined && !`${algorithm} ${bytes}`.includes(only)) continue;
    const plaintext = sodium.randombytes_buf(bytes);
    const iterations: Record<Operation, number> = {
      seal: sealIterations,
      open: openIterations,
      reencrypt: Math.min(sealIterations, openIterations),
    };
    const envelope = envelopeCases(sealer, keyring, algorithm, plaintext);
    const headerLength = decodeEnvelope(
      sealer.seal(plaintext, { keyring, keyName: algorithm === 'xchacha20poly1305' ? 'bench-sym' : 'bench-box', topic: TOPIC }),
    ).headerBytes.length;
    const floor = floorCases(sodium, algorithm, bytes, headerLength);
    frees.push(floor.free);
    for (const operation of ['seal', 'open', 'reencrypt'] as const) {
      for (const [code, run] of [
        ['envelope', envelope[operation]],
        ['libsodium', floor.cases[operation]],
      ] as const) {
        measurements.push({ algorithm, bytes, operation, code, iterations: iterations[operation], run, wallUs: [], cpuUs: [] });
      }
    }
  }
  const loadBefore = loadavg()[0];
  for (let r = 0; r < rounds; r++) {
    // Interleaved, alternating the order, so drift on a shared machine touches every case alike.
    for (const m of r % 2 === 0 ? measurements : [...measurements].reverse()) measure(m);
  }
  frees.forEach((free) => free());
  const results = measurements.map(result);
  console.log(table(results));
  const overheads = results
    .filter((r) => r.code === 'envelope' && r.algorithm === 'xchacha20poly1305')
    .map((r) => {
      const floor = results.find((f) => f.code === 'libsodium' && f.algorithm === r.algorithm && f.bytes === r.bytes && f.operation === r.operation) as Result;
      return `${r.bytes} B ${r.operation}: +${fixed(r.cpuUsPerOp - floor.cpuUsPerOp)} µs`;
    });
  if (overheads.length > 0) console.log(`\nxchacha20poly1305, envelope code over libsodium (CPU, medians): ${overheads.join('; ')}`);
  console.log(`load average (1 min): ${loadBefore.toFixed(2)} before, ${loadavg()[0].toFixed(2)} after, ${cpus().length} cores`);
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const report = {
    benchmark: 'crypto envelope v1',
    date: new Date().toISOString(),
    node: process.version,
    libsodium: sodium.sodium_version_string(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    loadAverage: [round(loadBefore, 2), round(loadavg()[0], 2)],
    topicBound: true,
    rounds,
    results,
  };
  writeFileSync(join(dir, 'crypto.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${join(dir, 'crypto.json')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
