export * from './bridge-stats';
export * from './bridge.pipeline';
export * from './dead-letter.writer';
export * from './payload.transformer';
export * from './replay.guard';
export * from './rule.preview';
