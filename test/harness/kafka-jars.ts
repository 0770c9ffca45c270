import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fillCacheOnce } from './cache-lock';
import { which } from './proc';

/* Resolving Apache Kafka's jars from Maven Central (cached), and running the JVM tools. */

export const DEFAULT_KAFKA_VERSION = '3.9.1';
const REPO_ROOT = path.resolve(__dirname, '..', '..');
const POM = path.join(__dirname, 'kafka', 'pom.xml');

export function javaBinary(): string {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const java = (fromHome && which(fromHome)) || which('java');
  if (!java) {
    throw new Error(
      'java not found (JAVA_HOME unset or invalid, and no java on PATH): Kafka needs a Java 17+ runtime – ' +
        'install it: apt-get install -y openjdk-17-jre-headless',
    );
  }
  return java;
}

function jarsCacheRoot(): string {
  return process.env.KAFKA_JARS_CACHE || path.join(REPO_ROOT, '.cache', 'kafka-jars');
}

function scalaBinary(): string {
  return process.env.KAFKA_SCALA_BINARY || '2.13';
}

/**
 * The directory holding every runtime jar of Kafka `version`, downloading it with Maven on first use.
 * A `.complete` marker is written after a successful copy; a dir without it is redone. Concurrent
 * callers (several jest workers) serialise on a lock directory.
 */
export async function resolveKafkaJars(version: string = kafkaVersion()): Promise<string> {
  const dir = path.join(jarsCacheRoot(), version);
  const marker = path.join(dir, '.complete');
  const mainJar = path.join(dir, `kafka_${scalaBinary()}-${version}.jar`);
  const ready = () => fs.existsSync(marker) && fs.existsSync(mainJar);
  await fillCacheOnce(dir, 'Kafka jars', ready, async () => {
    const mvn = which('mvn');
    if (!mvn) {
      throw new Error(
        `mvn not found: the Kafka ${version} jars are not cached in ${dir} and Maven is needed to fetch them from Maven Central – ` +
          'install it: apt-get install -y maven (or point KAFKA_JARS_CACHE at a directory that already holds <version>/ with the jars)',
      );
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const args = [
      '-q',
      '-B',
      '-Dstyle.color=never',
      '-f',
      POM,
      'dependency:copy-dependencies',
      '-DincludeScope=runtime',
      `-DoutputDirectory=${dir}`,
      `-Dkafka.version=${version}`,
      `-Dscala.binary=${scalaBinary()}`,
    ];
    if (process.env.KAFKA_SLF4J_SIMPLE_VERSION) args.push(`-Dslf4j.simple.version=${process.env.KAFKA_SLF4J_SIMPLE_VERSION}`);
    const started = Date.now();
    const result = await run(mvn, args, 15 * 60_000);
    if (result.code !== 0 || !fs.existsSync(mainJar)) {
      throw new Error(
        `resolving Kafka ${version} jars failed: mvn ${args.join(' ')} exited ${result.code}` +
          `${fs.existsSync(mainJar) ? '' : ` and ${mainJar} is missing`}.\n${lastLines(result.output, 40)}`,
      );
    }
    fs.writeFileSync(marker, `kafka ${version} jars resolved in ${Date.now() - started} ms at ${new Date().toISOString()}\n`);
  });
  return dir;
}

export function kafkaVersion(): string {
  return process.env.KAFKA_VERSION?.trim() || DEFAULT_KAFKA_VERSION;
}

export function run(cmd: string, args: string[], timeoutMs: number, cwd?: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-200_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

export function lastLines(text: string, n: number): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}
