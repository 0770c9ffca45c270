/*
 * Regenerates envelope-v1.json from the reference implementation:
 *   node -r ts-node/register/transpile-only -r tsconfig-paths/register libs/crypto/test-vectors/generate.ts [out.json]
 * Symmetric envelopes come out identical every time (fixed key and nonce); sealed boxes use a
 * fresh ephemeral key per seal inside libsodium, so their envelopes change on every run.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../src/bytes';
import { encodeHeader, type EnvelopeHeader } from '../src/envelope';
import { sealForPublicKey, sealSymmetric } from '../src/envelope.cipher';
import { SodiumProvider, type Sodium } from '../src/sodium.provider';
import { encodeSealedInner, topicTag } from '../src/topic-binding';
import type { NegativeVector, PositiveVector, VectorFile } from './vector-file';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
/** 0xSS, 0xSS+1, ... : key material anyone can retype. */
const counting = (start: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);

const LONG_NAME = 'fleet-7.building_42.floor-3.zone-B.hvac.telemetry.encryption-key'.slice(0, 64);
const UNICODE_TOPIC = 'usine/capteur-température/温度/🌡';

interface SymmetricInput {
  description: string;
  keyName: string;
  keyVersion: number;
  key: Uint8Array;
  nonce: Uint8Array;
  topic: string | null;
  plaintext: string;
}

interface SealedInput {
  description: string;
  keyName: string;
  keyVersion: number;
  seed: Uint8Array;
  topic: string | null;
  plaintext: string;
}

const SYMMETRIC: SymmetricInput[] = [
  {
    description: 'xchacha20poly1305, unbound',
    keyName: 'tenant-a.telemetry',
    keyVersion: 1,
    key: counting(0x00, 32),
    nonce: counting(0x40, 24),
    topic: null,
    plaintext: 'hello, bridge',
  },
  {
    description: 'xchacha20poly1305, bound to an ASCII topic',
    keyName: 'tenant-a.telemetry',
    keyVersion: 2,
    key: counting(0x20, 32),
    nonce: counting(0x60, 24),
    topic: 'devices/d-042/telemetry',
    plaintext: '{"t":21.5,"rh":40}',
  },
  {
    description: 'xchacha20poly1305, bound to a unicode topic',
    keyName: 'plant_7',
    keyVersion: 12,
    key: counting(0x80, 32),
    nonce: counting(0xa0, 24),
    topic: UNICODE_TOPIC,
    plaintext: 'ünïcødé ✓',
  },
  {
    description: 'xchacha20poly1305, empty plaintext, 64-character key name, largest key version',
    keyName: LONG_NAME,
    keyVersion: 0xffffffff,
    key: counting(0xc0, 32),
    nonce: counting(0xe0, 24),
    topic: 'a/b',
    plaintext: '',
  },
];

const SEALED: SealedInput[] = [
  {
    description: 'sealedbox, unbound',
    keyName: 'consumer.analytics',
    keyVersion: 1,
    seed: counting(0x10, 32),
    topic: null,
    plaintext: 'sealed hello',
  },
  {
    description: 'sealedbox, bound to a unicode topic',
    keyName: 'consumer.analytics',
    keyVersion: 3,
    seed: counting(0x30, 32),
    topic: UNICODE_TOPIC,
    plaintext: '{"alarm":"température élevée"}',
  },
  {
    description: 'sealedbox, empty plaintext, 64-character key name, bound',
    keyName: LONG_NAME,
    keyVersion: 7,
    seed: counting(0x50, 32),
    topic: 'devices/d-042/telemetry',
    plaintext: '',
  },
];

export function buildVectors(sodium: Sodium): VectorFile {
  const symmetric = SYMMETRIC.map((v): PositiveVector => {
    const envelope = sealSymmetric(sodium, { ...v, plaintext: utf8(v.plaintext), topic: v.topic ?? undefined });
    return {
      description: v.description,
      algorithm: 'xchacha20poly1305',
      keyName: v.keyName,
      keyVersion: v.keyVersion,
      key: hex(v.key),
      nonce: hex(v.nonce),
      topic: v.topic,
      plaintext: hex(utf8(v.plaintext)),
      envelope: hex(envelope),
    };
  });
  const sealed = SEALED.map((v): PositiveVector => {
    const pair = sodium.crypto_box_seed_keypair(v.seed);
    const envelope = sealForPublicKey(sodium, {
      ...v,
      publicKey: pair.publicKey,
      plaintext: utf8(v.plaintext),
      topic: v.topic ?? undefined,
    });
    return {
      description: v.description,
      algorithm: 'sealedbox',
      keyName: v.keyName,
      keyVersion: v.keyVersion,
      secretKey: hex(pair.privateKey),
      publicKey: hex(pair.publicKey),
      topic: v.topic,
      plaintext: hex(utf8(v.plaintext)),
      envelope: hex(envelope),
    };
  });
  return {
    format: 'mqtt-kafka-bridge payload envelope v1 (docs/envelope.md)',
    notes: [
      'Byte fields are lowercase hex; keyName and topic are strings (topics are bound as their UTF-8 bytes).',
      'xchacha20poly1305 vectors are deterministic: sealing plaintext with key, nonce and topic must reproduce envelope byte for byte.',
      'sealedbox vectors are randomised by the sender: check them by opening with secretKey/publicKey.',
      'Negative vectors are opened with the keys of all positive vectors and must fail with expectedError.',
    ],
    vectors: [...symmetric, ...sealed],
    negative: negativeVectors(sodium, [...symmetric, ...sealed]),
  };
}

function negativeVectors(sodium: Sodium, vectors: PositiveVector[]): NegativeVector[] {
  const bytesOf = (i: number): Uint8Array => Uint8Array.from(Buffer.from(vectors[i].envelope, 'hex'));
  const edited = (i: number, edit: (b: Uint8Array) => void): string => {
    const b = bytesOf(i);
    edit(b);
    return hex(b);
  };
  const flipLast = (b: Uint8Array): void => {
    b[b.length - 1] ^= 0x01;
  };
  const [unbound, bound] = [vectors[0], vectors[1]];
  const sealedBound = vectors[5];
  const negative = (description: string, envelope: string, topic: string, expectedError: string, requireTopicBinding?: boolean): NegativeVector => ({
    description,
    envelope,
    topic,
    ...(requireTopicBinding ? { requireTopicBinding } : {}),
    expectedError,
  });
  const tagShort = unbound.envelope.slice(0, unbound.envelope.length - unbound.plaintext.length - 2);
  const versionOffset = 4 + unbound.keyName.length;
  const sealedUnbound = vectors[4];
  const longName = vectors[3];
  const otherTopic = 'devices/d-043/telemetry';
  const unhex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'));
  // A sealed box whose inner header or topic differs from the outer ones: what an attacker holding
  // only the public key can build. Readers that skip the inner comparison would open these.
  const sealedHeader = (topic: string, keyVersion = sealedBound.keyVersion): EnvelopeHeader => ({
    version: 1,
    algorithm: 'sealedbox',
    topicBound: true,
    keyName: sealedBound.keyName,
    keyVersion,
    topicTag: topicTag(sodium, utf8(topic)),
  });
  const forged = (outer: EnvelopeHeader, inner: EnvelopeHeader, innerTopic: string): string => {
    const box = sodium.crypto_box_seal(encodeSealedInner(encodeHeader(inner), utf8(innerTopic), utf8('forged')), unhex(sealedBound.publicKey as string));
    return hex(encodeHeader(outer)) + hex(box);
  };
  const tagOffset = 4 + sealedBound.keyName.length + 4;
  const swappedTag = sealedBound.envelope.slice(0, 2 * tagOffset) + hex(topicTag(sodium, utf8(otherTopic))) + sealedBound.envelope.slice(2 * (tagOffset + 8));
  const nameOffset = 4;
  // Header fields as bytes, to write what encodeHeader refuses to.
  const longNameRest = longName.envelope.slice(2 * (nameOffset + 64));
  const tooLongName = '01010141' + hex(utf8(`${longName.keyName.slice(0, 63)}xx`)) + longNameRest;
  const noName = '01010000' + unbound.envelope.slice(2 * (nameOffset + unbound.keyName.length));
  const sealedHeaderLength = 4 + sealedUnbound.keyName.length + 4;
  const mismatched = (algorithm: 'xchacha20poly1305' | 'sealedbox'): string => {
    // The key name and version of a key of the other type.
    const other = vectors.find((v) => v.algorithm !== algorithm)!;
    const params = { plaintext: utf8('x'), keyName: other.keyName, keyVersion: other.keyVersion };
    return hex(
      algorithm === 'xchacha20poly1305'
        ? sealSymmetric(sodium, { ...params, key: counting(0x11, 32), nonce: counting(0x22, 24) })
        : sealForPublicKey(sodium, { ...params, publicKey: unhex(sealedBound.publicKey as string) }),
    );
  };
  return [
    negative('xchacha20poly1305 tag tampered (last byte flipped)', edited(1, flipLast), bound.topic as string, 'decrypt-failed'),
    negative('sealed box tampered (last byte flipped)', edited(5, flipLast), sealedBound.topic as string, 'decrypt-failed'),
    negative('bound envelope opened on another topic', bound.envelope, 'devices/d-043/telemetry', 'topic-mismatch'),
    negative('sealed bound envelope opened on another topic', sealedBound.envelope, 'usine/capteur-température/温度', 'topic-mismatch'),
    negative('truncated inside the key name', unbound.envelope.slice(0, 2 * 10), 'x', 'envelope-malformed'),
    negative('body one byte shorter than the 16-byte tag', tagShort, 'x', 'envelope-malformed'),
    negative(
      'reserved flag bit 1 set',
      edited(0, (b) => (b[2] |= 0x02)),
      'x',
      'envelope-algorithm',
    ),
    negative(
      'unknown algorithm 0x03',
      edited(0, (b) => (b[1] = 0x03)),
      'x',
      'envelope-algorithm',
    ),
    negative(
      'version 0x02',
      edited(0, (b) => (b[0] = 0x02)),
      'x',
      'envelope-version',
    ),
    negative(
      'key version changed to one nobody holds',
      edited(0, (b) => (b[versionOffset + 3] = 9)),
      'x',
      'key-unknown',
    ),
    negative('unbound envelope where binding is required', unbound.envelope, 'x', 'topic-unbound', true),
    negative(
      "sealed box: outer topic tag swapped for another topic's, opened on that topic (the inner header differs)",
      swappedTag,
      otherTopic,
      'decrypt-failed',
    ),
    negative(
      'sealed box: inner topic differs from the topic the outer tag names',
      forged(sealedHeader(otherTopic), sealedHeader(otherTopic), sealedBound.topic as string),
      otherTopic,
      'topic-mismatch',
    ),
    negative(
      'sealed box: inner header differs from the outer one (key version)',
      forged(sealedHeader(otherTopic), sealedHeader(otherTopic, 1), otherTopic),
      otherTopic,
      'decrypt-failed',
    ),
    negative('key name length 0', noName, 'x', 'envelope-malformed'),
    negative('key name length 65', tooLongName, 'x', 'envelope-malformed'),
    negative(
      'key name with a byte outside [A-Za-z0-9._-] (a slash)',
      edited(0, (b) => (b[nameOffset] = 0x2f)),
      'x',
      'envelope-malformed',
    ),
    negative(
      'key version 0',
      edited(0, (b) => b.fill(0, versionOffset, versionOffset + 4)),
      'x',
      'envelope-malformed',
    ),
    negative(
      'envelope version 0x00',
      edited(0, (b) => (b[0] = 0x00)),
      'x',
      'envelope-version',
    ),
    negative('sealed box body of 47 bytes', sealedUnbound.envelope.slice(0, 2 * (sealedHeaderLength + 47)), 'x', 'envelope-malformed'),
    negative('empty input', '', 'x', 'envelope-malformed'),
    negative('algorithm 0x01 naming a sealed (X25519) key', mismatched('xchacha20poly1305'), 'x', 'algorithm-mismatch'),
    negative('algorithm 0x02 naming a symmetric key', mismatched('sealedbox'), 'x', 'algorithm-mismatch'),
  ];
}

async function main(): Promise<void> {
  const out = process.argv[2] ?? join(__dirname, 'envelope-v1.json');
  const file = buildVectors(await new SodiumProvider().ready());
  writeFileSync(out, JSON.stringify(file, null, 2) + '\n');
  console.log(`wrote ${file.vectors.length} vectors and ${file.negative.length} negative vectors to ${out}`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
