import { Injectable } from '@nestjs/common';
import { ChannelModel, connect } from 'amqplib';

/** The seam between the bridge and amqplib: unit tests replace `createClient` with a fake broker. */
@Injectable()
export class AmqpClientFactory {
  createClient(url: string): Promise<ChannelModel> {
    return connect(url);
  }
}
