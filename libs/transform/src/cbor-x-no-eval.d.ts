// cbor-x's no-eval build has the same API as its main entry; its package types only map the
// main entry for the project's module resolution.
declare module 'cbor-x/index-no-eval' {
  export * from 'cbor-x';
}
