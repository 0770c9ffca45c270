import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fillCacheOnce } from './cache-lock';
import { javaBinary, lastLines, run } from './kafka-jars';
import { which } from './proc';

/*
 * Reading records the bridge wrote with the reference implementations, from Maven Central:
 * Apache Avro's Java library, protobuf-java and protoc (see reference-decoders/). Confluent's
 * own deserialisers are not on Maven Central; these read the same bytes after the same header.
 */

const PROJECT = path.join(__dirname, 'reference-decoders');
const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** What ReferenceDecode printed: the frame's schema id and the record as the reference library sees it. */
export interface ReferenceRecord {
  schemaId: number;
  /** Protobuf: the message indexes read from the frame, and the message type they name. */
  messageIndexes?: number[];
  type?: string;
  /** Avro: Avro's JSON encoding; Protobuf: protobuf-java-util's JSON with the schema's field names. */
  record: Record<string, unknown>;
}

interface Tools {
  classpath: string;
  protoc: string;
  /** The well-known types' .proto files, for protoc's --proto_path. */
  include: string;
}

let tools: Promise<Tools> | undefined;

/** Jars, protoc and the compiled ReferenceDecode in .cache/reference-decoders/, made on first use. */
export function referenceDecoders(): Promise<Tools> {
  return (tools ??= resolve());
}

async function resolve(): Promise<Tools> {
  const dir = path.join(REPO_ROOT, '.cache', 'reference-decoders');
  const marker = path.join(dir, '.complete');
  await fillCacheOnce(
    dir,
    'the reference decoders',
    () => fs.existsSync(marker),
    async () => {
      const mvn = which('mvn');
      const javac = javaTool('javac');
      if (!mvn) throw new Error('mvn is needed for the reference decoders: apt-get install -y maven');
      fs.rmSync(dir, { recursive: true, force: true });
      const jars = path.join(dir, 'jars');
      const args = ['-q', '-B', '-Dstyle.color=never', '-f', path.join(PROJECT, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${jars}`];
      const fetched = await run(mvn, args, 15 * 60_000);
      if (fetched.code !== 0) throw new Error(`resolving the reference decoders failed: mvn exited ${fetched.code}.\n${lastLines(fetched.output, 40)}`);
      const classes = path.join(dir, 'classes');
      const compiled = await run(javac, ['-d', classes, '-cp', path.join(jars, '*'), path.join(PROJECT, 'ReferenceDecode.java')], 5 * 60_000);
      if (compiled.code !== 0) throw new Error(`compiling ReferenceDecode failed.\n${lastLines(compiled.output, 40)}`);
      const protoc = fs.readdirSync(jars).find((name) => name.startsWith('protoc-') && name.endsWith('.exe'));
      if (!protoc) throw new Error(`protoc is missing from ${jars}`);
      fs.chmodSync(path.join(jars, protoc), 0o755);
      // protoc from Maven Central comes without the well-known .proto files; protobuf-java has them.
      const protobufJava = fs.readdirSync(jars).find((name) => /^protobuf-java-\d.*\.jar$/.test(name));
      const include = path.join(dir, 'include');
      fs.mkdirSync(include);
      const extracted = await run(javaTool('jar'), ['xf', path.join(jars, protobufJava ?? 'protobuf-java.jar'), 'google/protobuf'], 60_000, include);
      if (extracted.code !== 0) throw new Error(`extracting the well-known .proto files failed.\n${lastLines(extracted.output, 20)}`);
      fs.writeFileSync(marker, `${protoc}\n`);
    },
  );
  const protoc = path.join(dir, 'jars', fs.readFileSync(marker, 'utf8').trim());
  return { classpath: [path.join(dir, 'classes'), path.join(dir, 'jars', '*')].join(path.delimiter), protoc, include: path.join(dir, 'include') };
}

/** A JDK tool beside the java the harness runs, or on PATH. */
function javaTool(name: 'javac' | 'jar'): string {
  const tool = which(path.join(path.dirname(javaBinary()), name)) ?? which(name);
  if (!tool) throw new Error(`${name} is needed for the reference decoders: apt-get install -y openjdk-17-jdk-headless`);
  return tool;
}

/** Reads a framed Avro record with Apache Avro's Java library and the given writer schema (JSON text). */
export async function readAvroWithJava(schema: string, framed: Uint8Array): Promise<ReferenceRecord> {
  return withTempDir(async (dir) => {
    fs.writeFileSync(path.join(dir, 'schema.avsc'), schema);
    return decode('avro', path.join(dir, 'schema.avsc'), dir, framed);
  });
}

/** Reads a framed Protobuf record with protobuf-java, the schema (.proto text) compiled by protoc. */
export async function readProtobufWithJava(schema: string, framed: Uint8Array): Promise<ReferenceRecord> {
  const { protoc, include } = await referenceDecoders();
  return withTempDir(async (dir) => {
    fs.writeFileSync(path.join(dir, 'schema.proto'), schema);
    const descriptor = path.join(dir, 'schema.desc');
    const compiled = await run(
      protoc,
      [`--proto_path=${dir}`, `--proto_path=${include}`, `--descriptor_set_out=${descriptor}`, '--include_imports', path.join(dir, 'schema.proto')],
      60_000,
    );
    if (compiled.code !== 0) throw new Error(`protoc refused the schema:\n${lastLines(compiled.output, 20)}`);
    return decode('protobuf', descriptor, dir, framed);
  });
}

async function decode(format: 'avro' | 'protobuf', schemaFile: string, dir: string, framed: Uint8Array): Promise<ReferenceRecord> {
  const { classpath } = await referenceDecoders();
  const record = path.join(dir, 'record.bin');
  fs.writeFileSync(record, framed);
  const result = await run(javaBinary(), ['-cp', classpath, 'ReferenceDecode', format, schemaFile, record], 120_000);
  if (result.code !== 0) throw new Error(`ReferenceDecode ${format} exited ${result.code}:\n${lastLines(result.output, 20)}`);
  return JSON.parse(result.output.trim().split('\n').pop() ?? '') as ReferenceRecord;
}

async function withTempDir<T>(use: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bridge-reference-'));
  try {
    return await use(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
