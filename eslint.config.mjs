// Lint: promises that are neither awaited nor handled, and the import boundaries between libs
// (docs/architecture.md). Formatting is Prettier's job (npm run format:check), not ESLint's.
import tseslint from 'typescript-eslint';

/** Which libs each lib may import (besides itself); docs/architecture.md draws the same picture. */
export const LAYERS = {
  core: [],
  config: ['core'],
  topic: ['core'],
  crypto: ['core'],
  transform: ['core'],
  kafka: ['core', 'config', 'topic'],
  mqtt: ['core', 'config', 'topic'],
  amqp: ['core', 'config', 'topic'],
  nats: ['core', 'config', 'topic'],
  keystore: ['core', 'config', 'crypto', 'kafka'],
  admin: ['core', 'config', 'crypto', 'kafka', 'keystore'],
  registry: ['core', 'transform'],
  'bridge-config': ['core', 'config', 'topic', 'crypto', 'transform', 'kafka', 'mqtt', 'amqp', 'nats', 'keystore', 'admin', 'registry'],
  pipeline: ['core', 'config', 'topic', 'crypto', 'transform', 'kafka', 'registry', 'bridge-config'],
  worker: ['core', 'config', 'topic', 'crypto', 'transform', 'kafka', 'mqtt', 'amqp', 'nats', 'keystore', 'admin', 'registry', 'bridge-config', 'pipeline'],
};
const LIBS = Object.keys(LAYERS);

function boundaries(lib) {
  const forbidden = LIBS.filter((other) => other !== lib && !LAYERS[lib].includes(other));
  return {
    files: [`libs/${lib}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...(forbidden.length === 0
              ? []
              : [
                  {
                    group: forbidden.flatMap((other) => [`@app/${other}`, `@app/${other}/*`]),
                    message: `@app/${lib} may import only ${LAYERS[lib].join(', ') || 'no other lib'} (docs/architecture.md).`,
                  },
                ]),
            {
              group: ['**/apps/**', '../../*', '**/test/**', '**/bench/**'],
              message: 'A lib imports other libs as @app/<lib>, never apps, tests, benchmarks or relative paths out of itself.',
            },
          ],
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'coverage/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      'no-duplicate-imports': ['error', { allowSeparateTypeImports: true }],
    },
  },
  ...LIBS.map(boundaries),
  {
    files: ['test/**/*.ts', 'apps/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/bench/**'], message: 'Tests and code do not import benchmarks; shared helpers live in libs or test/harness.' }] },
      ],
    },
  },
);
