export * from './topic-filter';
export * from './template';
