export * from './config.error';
export * from './config.validate';
export * from './environment';
export * from './yaml-document';
export * from './problem.refinement';
