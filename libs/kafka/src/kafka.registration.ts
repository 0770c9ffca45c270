import { DestinationRegistration } from '@app/core';
import { KafkaDestination } from './kafka.destination';
import { kafkaDestinationSchema, kafkaDestinationSpec } from './kafka.schema';
import { KafkaWriter } from './kafka.writer';

/** The `kafka` destination type: records through the worker's shared, ordered KafkaWriter. */
export const kafkaDestinationRegistration: DestinationRegistration<typeof kafkaDestinationSchema, { kafkaWriter(): KafkaWriter }> = {
  ...kafkaDestinationSpec,
  create: (config, name, captures, resources) => new KafkaDestination(name, config, resources.kafkaWriter(), captures),
};
