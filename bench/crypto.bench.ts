/*
 * Envelope seal/open micro-benchmark, per message, both algorithms, topic-bound.
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register bench/crypto.bench.ts
 * Iteration counts are fixed (comparable across runs and machines) and sized for about one
 * second each on a 2-core CI runner. Writes bench/results/crypto.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { EnvelopeSealer, generateKeyEntry, Keyring, SodiumProvider } from '@app/crypto';
import { markdownTable } from './lib/markdown-table';

type Algorithm = 'xchacha20poly1305' | 'sealedbox';
type Operation = 'seal' | 'open';

/** [algorithm, payload bytes, seal iterations, open iterations] */
const CASES: readonly [Algorithm, number, number, number][] = [
  ['xchacha20poly1305', 64, 100_000, 300_000],
  ['xchacha20poly1305', 1024, 70_000, 120_000],
  ['xchacha20poly1305', 65536, 5_000, 6_000],
  ['sealedbox', 64, 4_000, 10_000],
  ['sealedbox', 1024, 4_000, 9_000],
  ['sealedbox', 65536, 2_000, 3_000],
];
const WARM_UP_FRACTION = 0.1;
const TOPIC = 'site/7/line/3/telemetry';

interface Result {
  algorithm: Algorithm;
  bytes: number;
  operation: Operation;
  iterations: number;
  totalMs: number;
  usPerOp: number;
  opsPerSec: number;
  mbPerSec: number;
}

function measure(iterations: number, run: () => void): number {
  for (let i = Math.ceil(iterations * WARM_UP_FRACTION); i > 0; i--) run();
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) run();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function result(algorithm: Algorithm, bytes: number, operation: Operation, iterations: number, totalMs: number): Result {
  const usPerOp = (totalMs * 1000) / iterations;
  return {
    algorithm,
    bytes,
    operation,
    iterations,
    totalMs: round(totalMs, 1),
    usPerOp: round(usPerOp, 2),
    opsPerSec: Math.round(1e6 / usPerOp),
    mbPerSec: round(bytes / usPerOp, 1),
  };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function table(results: readonly Result[]): string {
  const header = ['algorithm', 'payload', 'op', 'iterations', 'total ms', 'µs/op', 'ops/s', 'MB/s'];
  const rows = results.map((r) =>
    [r.algorithm, `${r.bytes} B`, r.operation, r.iterations, r.totalMs, r.usPerOp, r.opsPerSec, r.mbPerSec].map(String),
  );
  return markdownTable(header, rows, 3);
}

async function main(): Promise<void> {
  const sodium = await new SodiumProvider().ready();
  const sealer = new EnvelopeSealer(sodium);
  const keyring = Keyring.from([generateKeyEntry(sodium, 'bench-sym', 'symmetric'), generateKeyEntry(sodium, 'bench-box', 'sealed')]);
  const results: Result[] = [];
  for (const [algorithm, bytes, sealIterations, openIterations] of CASES) {
    const keyName = algorithm === 'xchacha20poly1305' ? 'bench-sym' : 'bench-box';
    const plaintext = sodium.randombytes_buf(bytes);
    const envelope = sealer.seal(plaintext, { keyring, keyName, topic: TOPIC });
    const openOptions = { keyring, expectedKeyName: keyName, topic: TOPIC, requireTopicBinding: true };
    const sealMs = measure(sealIterations, () => sealer.seal(plaintext, { keyring, keyName, topic: TOPIC }));
    results.push(result(algorithm, bytes, 'seal', sealIterations, sealMs));
    const openMs = measure(openIterations, () => sealer.open(envelope, openOptions));
    results.push(result(algorithm, bytes, 'open', openIterations, openMs));
  }
  console.log(table(results));
  const dir = join(__dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const report = {
    benchmark: 'crypto envelope v1',
    date: new Date().toISOString(),
    node: process.version,
    libsodium: sodium.sodium_version_string(),
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    topicBound: true,
    results,
  };
  writeFileSync(join(dir, 'crypto.json'), JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwrote ${join(dir, 'crypto.json')}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
