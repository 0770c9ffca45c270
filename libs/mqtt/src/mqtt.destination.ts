import { randomBytes } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { IClientPublishOptions, MqttClient } from 'mqtt';
import {
  BackgroundLink,
  Destination,
  DestinationPreview,
  DestinationRejectedError,
  DestinationUnavailableError,
  OutboundRecord,
  QoS,
  withRetries,
} from '@app/core';
import { CompiledTemplate, compileTemplate, TemplateInput, validateTopicName } from '@app/topic';
import { connectionOptions, MqttClientFactory } from './mqtt.client-factory';
import { MqttDestinationConfig } from './mqtt.schema';

/** How long close() waits for the broker to see the DISCONNECT before dropping the socket. */
const END_MS = 2_000;

/**
 * Publishes to another MQTT broker over a connection of its own. `write` resolves once that
 * broker confirmed (PUBACK for QoS 1, PUBCOMP for QoS 2; at once for QoS 0). MQTT 5 properties
 * travel along (user properties, content type, correlation data, response topic, expiry).
 * The first connection is made in the background (BackgroundLink), so a worker starts while
 * this broker is down; after that MQTT.js reconnects by itself and queues publishes meanwhile.
 */
export class MqttDestination implements Destination {
  private readonly log = new Logger(MqttDestination.name);
  private readonly topic: CompiledTemplate;
  private readonly qosFor: readonly QoS[];
  private readonly clientId: string;
  private readonly link: BackgroundLink<MqttClient>;
  private client?: MqttClient;

  constructor(
    readonly name: string,
    private readonly config: MqttDestinationConfig,
    private readonly factory: MqttClientFactory,
    captures: readonly string[],
    input: TemplateInput = 'mqtt-message',
  ) {
    this.topic = compileTemplate(config.topic, captures, input);
    this.qosFor = [config.qos.qos0, config.qos.qos1, config.qos.qos2];
    this.clientId = config.broker.clientId ?? `bridge-out-${randomBytes(4).toString('hex')}`;
    this.link = new BackgroundLink({
      what: `MQTT destination ${name} (${config.broker.url})`,
      policy: config.retry,
      log: this.log,
      open: (signal) => this.open(signal),
      dispose: (client) => end(client),
    });
  }

  /** The connection is up now (MQTT.js may be reconnecting it). */
  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  get up(): boolean {
    return this.connected;
  }

  /** Resolves at once: the connection is made in the background (see BackgroundLink). */
  async connect(): Promise<void> {
    this.link.start();
  }

  async write(record: OutboundRecord): Promise<void> {
    const { topic, options } = this.publication(record);
    const payload = record.payload(topic);
    await withRetries(
      this.config.retry,
      () =>
        this.link.untilClosed(
          (async () => {
            const client = await this.link.get(this.config.retry.maxMs);
            try {
              // While disconnected MQTT.js queues the publish and sends it after reconnecting.
              await client.publishAsync(topic, payload, options);
            } catch (error) {
              throw new DestinationUnavailableError(`MQTT destination ${this.name}: ${(error as Error).message}`, { cause: error });
            }
          })(),
        ),
      this.link.signal,
    );
  }

  describe(record: OutboundRecord): DestinationPreview {
    const { topic, options } = this.publication(record);
    const summary = `mqtt ${this.config.broker.url} topic ${topic} qos ${options.qos}`;
    return { summary, address: topic, headers: { ...options.properties?.userProperties } };
  }

  /**
   * Ends writes still waiting for the broker (they reject with a ShutdownError, so their messages
   * stay unacknowledged), then disconnects; a broker that does not answer is not waited for.
   */
  async close(): Promise<void> {
    await this.link.close();
  }

  /** One attempt: a client that reached CONNACK, or none (MQTT.js must not keep retrying a discarded one). */
  private open(signal: AbortSignal): Promise<MqttClient> {
    const broker = this.config.broker;
    const client = this.factory.createClient(broker.url, { ...connectionOptions(broker, this.clientId), clean: true });
    return new Promise<MqttClient>((resolve, reject) => {
      const settle = (failure?: string) => {
        client.off('connect', onConnect);
        client.off('error', onError);
        client.off('close', onClose);
        signal.removeEventListener('abort', onAbort);
        if (failure === undefined) {
          this.client = client;
          client.on('error', (error) => this.log.error({ msg: 'MQTT destination error', destination: this.name, detail: error.message }));
          resolve(client);
        } else {
          client.end(true);
          reject(new DestinationUnavailableError(`MQTT destination ${this.name} (${broker.url}): ${failure}`));
        }
      };
      const onConnect = () => settle();
      const onError = (error: Error) => settle(error.message);
      const onClose = () => settle('connection closed before CONNACK');
      const onAbort = () => settle('closed while connecting');
      client.once('connect', onConnect);
      client.once('error', onError);
      client.once('close', onClose);
      signal.addEventListener('abort', onAbort);
    });
  }

  /** Topic and publish options of the record, for `write` and `describe` alike. */
  private publication(record: OutboundRecord): { topic: string; options: IClientPublishOptions } {
    const topic = this.topic.render(record.context);
    const problem = validateTopicName(topic);
    if (problem) throw new DestinationRejectedError(`MQTT topic ${this.topic.show(topic)} is invalid: ${problem}`, 'invalid-topic');
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
    return { topic, options };
  }
}

async function end(client: MqttClient): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, END_MS)));
  await Promise.race([client.endAsync(false).catch(() => undefined), late]);
  clearTimeout(timer);
  if (!client.disconnected) client.end(true);
}
