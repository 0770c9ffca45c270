import { Injectable } from '@nestjs/common';
import { connect, ConnectionOptions, NatsConnection } from 'nats';

/** The seam between the bridge and nats.js: unit tests replace `createClient` with a fake server. */
@Injectable()
export class NatsClientFactory {
  createClient(options: ConnectionOptions): Promise<NatsConnection> {
    return connect(options);
  }
}
