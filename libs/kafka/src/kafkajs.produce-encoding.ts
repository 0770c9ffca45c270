import { encodeProduceRequest, ProduceRequestData } from './produce-request.encoder';

/** The kafkajs release whose Produce request `encodeProduceRequest` reproduces byte for byte. */
export const KAFKAJS_ENCODED_VERSION = '2.2.4';

interface ProduceRequestArgs extends ProduceRequestData {
  readonly compression?: number;
}

interface BuiltRequest {
  readonly request: { encode(): Promise<unknown> };
  readonly response: unknown;
}

interface RequestDefinition {
  readonly versions: string[];
  protocol(options: { version: number }): (args: ProduceRequestArgs) => BuiltRequest;
}

interface EncodedDefinition extends RequestDefinition {
  /** kafkajs's own definition, put back by `useProduceEncoding(false)`. */
  readonly [KAFKAJS_DEFINITION]: RequestDefinition;
}

const KAFKAJS_DEFINITION = Symbol('kafkajs produce definition');

/**
 * With `on`, makes every kafkajs producer in this process encode its uncompressed Produce
 * requests (v3 and later) with `encodeProduceRequest`: one buffer per request instead of
 * kafkajs's buffer per record and per header, the same bytes (produce-request.encoder.spec.ts
 * compares them with kafkajs's own encoder). Compressed requests, records with a timestamp and
 * older request versions are left to kafkajs. Without `on`, kafkajs's own encoding is back.
 *
 * This replaces a request definition inside kafkajs, which its broker looks up on every produce,
 * so it is bound to the exact release it was written against: with any other version it changes
 * nothing and returns false. Returns whether the bridge's encoding is in use.
 */
export function useProduceEncoding(on: boolean, kafkajsVersion: string = installedKafkajsVersion()): boolean {
  // kafkajs exports no hook for its request encoders.
  const { requests } = require('kafkajs/src/protocol/requests') as { requests: { Produce: RequestDefinition | EncodedDefinition } };
  const current = requests.Produce;
  const kafkajs = KAFKAJS_DEFINITION in current ? current[KAFKAJS_DEFINITION] : current;
  requests.Produce = on && kafkajsVersion === KAFKAJS_ENCODED_VERSION ? (current === kafkajs ? encodedProduce(kafkajs) : current) : kafkajs;
  return requests.Produce !== kafkajs;
}

/** `original` with the uncompressed v3+ requests encoded by `encodeProduceRequest`. */
export function encodedProduce(original: RequestDefinition): EncodedDefinition {
  return {
    [KAFKAJS_DEFINITION]: original,
    versions: original.versions,
    protocol: (options) => {
      const build = original.protocol(options);
      if (options.version < 3) return build;
      return (args) => {
        const built = build(args);
        if (args.compression) return built;
        const kafkajsEncode = built.request.encode;
        const encode = async () => {
          const bytes = encodeProduceRequest(args, Date.now());
          // kafkajs's request framing reads an encoder's `buf` and `buffer`.
          return bytes ? { buf: bytes, offset: bytes.length, buffer: bytes, size: () => bytes.length } : kafkajsEncode();
        };
        return { ...built, request: { ...built.request, encode } };
      };
    },
  };
}

function installedKafkajsVersion(): string {
  return (require('kafkajs/package.json') as { version: string }).version;
}
