import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { IClientPublishOptions, MqttClient } from 'mqtt';
import { z } from 'zod';
import { Destination, DestinationRejectedError, DestinationUnavailableError, OutboundRecord, QoS, retryPolicySchema, ShutdownError, withRetries } from '@app/core';
import { CompiledTemplate, compileTemplate, TemplateInput, validateTopicName } from '@app/topic';
import { connectionOptions, MqttClientFactory } from './mqtt.client-factory';
import { mqttConnectionSchema, mqttTopicTemplateSchema } from './mqtt.schema';

const qos = z.union([z.literal(0), z.literal(1), z.literal(2)]);

/** A rule destination of type `mqtt`: another broker (a cloud broker, a site broker). */
export const mqttDestinationSchema = z
  .object({
    type: z.literal('mqtt'),
    broker: mqttConnectionSchema,
    /** Template. */
    topic: mqttTopicTemplateSchema,
    /** QoS to publish with, per incoming QoS (downgrade or upgrade); default: the same. */
    qos: z.object({ qos0: qos.default(0), qos1: qos.default(1), qos2: qos.default(2) }).strict().default({}),
    /** Keep the incoming retain flag (default) or never retain. */
    retain: z.enum(['keep', 'never']).default('keep'),
    /** Seconds; overrides the incoming MQTT 5 message expiry. */
    messageExpirySeconds: z.number().int().min(1).optional(),
    /** Publishes that fail (broker down, connection lost before the acknowledgement) are retried. */
    retry: retryPolicySchema,
  })
  .strict();

export type MqttDestinationConfig = z.output<typeof mqttDestinationSchema>;

/**
 * Publishes to another MQTT broker over a connection of its own. `write` resolves once that
 * broker confirmed (PUBACK for QoS 1, PUBCOMP for QoS 2; at once for QoS 0). MQTT 5 properties
 * travel along (user properties, content type, correlation data, response topic, expiry).
 */
export class MqttDestination implements Destination {
  private readonly log = new Logger(MqttDestination.name);
  private readonly topic: CompiledTemplate;
  private readonly qosFor: readonly QoS[];
  private client?: MqttClient;
  /** Aborted by close(): pending publishes and retry waits end with a ShutdownError. */
  private readonly closing = new AbortController();
  private readonly closed: Promise<never>;

  constructor(
    readonly name: string,
    private readonly config: MqttDestinationConfig,
    private readonly factory: MqttClientFactory,
    captures: readonly string[],
    input: TemplateInput = 'mqtt-message',
  ) {
    this.topic = compileTemplate(config.topic, captures, input);
    this.qosFor = [config.qos.qos0, config.qos.qos1, config.qos.qos2];
    this.closed = new Promise<never>((_, reject) =>
      this.closing.signal.addEventListener('abort', () => reject(new ShutdownError(`MQTT destination ${name} closed before the broker confirmed`))),
    );
    this.closed.catch(() => undefined);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  async connect(): Promise<void> {
    const broker = this.config.broker;
    const clientId = broker.clientId ?? `bridge-out-${randomBytes(4).toString('hex')}`;
    const client = this.factory.createClient(broker.url, { ...connectionOptions(broker, clientId), clean: true });
    this.client = client;
    client.on('error', (error) => this.log.error({ msg: 'MQTT destination error', destination: this.name, detail: error.message }));
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', (error) => reject(new Error(`MQTT destination ${this.name} (${broker.url}): ${error.message}`)));
    });
  }

  async write(record: OutboundRecord): Promise<void> {
    const client = this.client;
    if (!client) throw new DestinationUnavailableError(`MQTT destination ${this.name} is not connected`);
    const topic = this.address(record);
    const { message } = record;
    const p = message.properties;
    const options: IClientPublishOptions = {
      qos: this.qosFor[message.qos],
      retain: this.config.retain === 'keep' && message.retain,
    };
    if (this.config.broker.protocolVersion === 5) {
      options.properties = {
        userProperties: p.userProperties as Record<string, string | string[]> | undefined,
        contentType: p.contentType,
        correlationData: p.correlationData,
        responseTopic: p.responseTopic,
        payloadFormatIndicator: p.payloadFormatIndicator,
        messageExpiryInterval: this.config.messageExpirySeconds ?? p.messageExpiryInterval,
      };
    }
    const payload = record.payload(topic);
    // While disconnected MQTT.js queues the publish and sends it after reconnecting.
    await withRetries(
      this.config.retry,
      async () => {
        try {
          await Promise.race([client.publishAsync(topic, payload, options), this.closed]);
        } catch (error) {
          if (error instanceof ShutdownError) throw error;
          throw new DestinationUnavailableError(`MQTT destination ${this.name}: ${(error as Error).message}`, { cause: error });
        }
      },
      this.closing.signal,
    );
  }

  describe(record: OutboundRecord): string {
    return `mqtt ${this.config.broker.url} topic ${this.address(record)} qos ${this.qosFor[record.message.qos]}`;
  }

  /**
   * Ends writes still waiting for the broker (they reject with a ShutdownError, so their messages
   * stay unacknowledged), then disconnects; a broker that does not answer is not waited for.
   */
  async close(): Promise<void> {
    this.closing.abort();
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, 2_000)));
    await Promise.race([client.endAsync(false).catch(() => undefined), late]);
    clearTimeout(timer);
    if (!client.disconnected) client.end(true);
  }

  private address(record: OutboundRecord): string {
    const topic = this.topic.render(record.context);
    const problem = validateTopicName(topic);
    if (problem) throw new DestinationRejectedError(`MQTT topic ${this.topic.show(topic)} is invalid: ${problem}`, 'invalid-topic');
    return topic;
  }
}
