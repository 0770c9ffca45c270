/** One jest run covers unit specs (beside the code) and end-to-end specs (test/e2e) on real brokers. */
const moduleNameMapper = {
  // Every lib is libs/<name>/src, as in tsconfig.json's paths.
  '^@app/([a-z-]+)$': '<rootDir>/libs/$1/src',
  '^@app/([a-z-]+)/(.*)$': '<rootDir>/libs/$1/src/$2',
};
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper,
  transform: {
    '^.+\\.ts$': ['ts-jest', { isolatedModules: true }],
    // CEL's interpreter ships as ES modules only; Jest's CommonJS runtime needs them compiled.
    '^.+\\.js$': ['ts-jest', { isolatedModules: true, tsconfig: { allowJs: true } }],
  },
  transformIgnorePatterns: ['/node_modules/(?!@marcbachmann/cel-js/)'],
};
module.exports = {
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/libs', '<rootDir>/apps', '<rootDir>/test/lint'], testMatch: ['**/*.spec.ts'] },
    {
      ...common,
      displayName: 'e2e',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      setupFilesAfterEnv: ['<rootDir>/test/e2e/jest.setup.ts'],
    },
  ],
  reporters: ['default', '<rootDir>/test/harness/summary.reporter.js'],
};
