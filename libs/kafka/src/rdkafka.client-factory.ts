import { Injectable } from '@nestjs/common';
import { RdkafkaConfig } from './rdkafka.config';
import { RD, RdkafkaError, RdkafkaProducer } from './rdkafka.native';

/** Error events whose code the writer acts on when it is an idempotence failure (rdkafka.errors.ts). */
const IDEMPOTENCE_CODES = [
  RD.OUT_OF_ORDER_SEQUENCE_NUMBER,
  RD.INVALID_PRODUCER_EPOCH,
  RD.INVALID_PRODUCER_ID_MAPPING,
  RD.UNKNOWN_PRODUCER_ID,
  RD.PRODUCER_FENCED,
  RD.FENCED,
  RD.INCONSISTENT,
  RD.GAPLESS_GUARANTEE,
];

const MODULE = '@confluentinc/kafka-javascript';

type NativeModule = { Producer: new (config: RdkafkaConfig) => RdkafkaProducer };
type NativeBinding = { err2str(code: number): string };

/**
 * The seam between the bridge and librdkafka (`@confluentinc/kafka-javascript`, an optional
 * dependency with a native build): tests replace `createProducer` with a fake, and where the
 * module did not build, `unavailable` says why.
 */
@Injectable()
export class RdkafkaClientFactory {
  private loaded?: { module?: NativeModule; error?: string };

  /** Why librdkafka cannot be used here, or undefined when it can. */
  get unavailable(): string | undefined {
    return this.load().error;
  }

  /**
   * The librdkafka code of an error event. The binding passes error events on as text only: code
   * -1 and the text after "Local: " lower-cased, or (where its `instanceof Error` fails, as in a
   * Jest sandbox) no code and the whole text. The code is looked up by librdkafka's own text for
   * it (`err2str`), for the codes the writer acts on; a fatal error's text starts "Fatal error".
   */
  eventCode(error: RdkafkaError): number {
    if (typeof error.code === 'number' && error.code !== -1) return error.code;
    if (error.origin === 'fatal error' || /^fatal error\b/i.test(error.message)) return RD.FATAL;
    this.eventCodes ??= this.codesByText();
    return this.eventCodes.get(afterOrigin(error.message)) ?? -1;
  }

  createProducer(config: RdkafkaConfig): RdkafkaProducer {
    const { module, error } = this.load();
    if (!module) throw new Error(`librdkafka is not available: ${error}`);
    return new module.Producer(config);
  }

  private eventCodes?: Map<string, number>;

  /** "Local: All broker connections are down" -> -187; the binding keeps the part after "Local: ", lower-cased. */
  private codesByText(): Map<string, number> {
    const codes = new Map<string, number>();
    if (!this.load().module) return codes;
    const binding = require(`${MODULE}/librdkafka`) as NativeBinding;
    for (const code of [RD.ALL_BROKERS_DOWN, RD.TRANSPORT, RD.CLUSTER_AUTHORIZATION_FAILED, ...IDEMPOTENCE_CODES]) {
      codes.set(afterOrigin(binding.err2str(code)), code);
    }
    return codes;
  }

  private load(): { module?: NativeModule; error?: string } {
    if (!this.loaded) {
      try {
        this.loaded = { module: require(MODULE) as NativeModule };
      } catch (error) {
        this.loaded = { error: `${MODULE} did not load (${(error as Error).message.split('\n')[0]})` };
      }
    }
    return this.loaded;
  }
}

/** "Local: Broker transport failure" and "broker transport failure" alike -> "broker transport failure". */
function afterOrigin(text: string): string {
  const colon = text.indexOf(': ');
  return (colon >= 0 ? text.slice(colon + 2) : text).toLowerCase();
}
