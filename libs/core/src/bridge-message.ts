export type QoS = 0 | 1 | 2;

/** MQTT 5 publish properties the bridge carries downstream. */
export interface MessageProperties {
  readonly contentType?: string;
  readonly correlationData?: Buffer;
  readonly responseTopic?: string;
  readonly payloadFormatIndicator?: boolean;
  readonly messageExpiryInterval?: number;
  readonly userProperties?: Readonly<Record<string, string | string[]>>;
}

/** One message as received from a source, before any rule touched it. */
export interface BridgeMessage {
  readonly topic: string;
  readonly payload: Buffer;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly properties: MessageProperties;
  /** `performance.now()` at receipt, for latency measurement. */
  readonly receivedAt: number;
}
