// The lint rules of the house (run by `npm run lint` and `npm test`): typescript-eslint's recommended set without type
// information (a type-aware run takes about 50 s here, a full type-check per lint), plus the rules that keep the layers
// apart: only the adapter layer (src/vscode/) and the composition root import `vscode`, and the plain Node layers never
// reach into the adapters. test/unit/architecture.test.ts lints snippets with this file, so losing a rule fails a test.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * Folders that run as plain Node (under vitest, as a child process, a worker thread, a lazily loaded chunk or a command
 * line tool): never `vscode`. test/unit/architecture.test.ts checks that every folder of src/ but the adapters is here.
 */
const PLAIN_NODE = [
  'src/core/**',
  'src/sim/**',
  'src/localEngineHost/**',
  'src/repoFileReader/**',
  'src/chunks/**',
  'src/tools/**',
];

const VSCODE_MODULE = {
  name: 'vscode',
  message: 'Only src/vscode/ and src/extension.ts import vscode: this folder runs as plain Node (src/ARCHITECTURE.md).',
};
const ADAPTER_LAYER = {
  regex: '(^|/)vscode/',
  message: 'The adapter layer (src/vscode/) imports vscode: this folder must not depend on it (src/ARCHITECTURE.md).',
};

/** `import('vscode')`, `require('vscode')` and a type `import('vscode').X`: what no-restricted-imports misses. */
const VSCODE_OTHER_FORMS = [
  { selector: "ImportExpression[source.value='vscode']", message: VSCODE_MODULE.message },
  { selector: "CallExpression[callee.name='require'][arguments.0.value='vscode']", message: VSCODE_MODULE.message },
  { selector: "TSImportType[source.value='vscode']", message: VSCODE_MODULE.message },
];

/** The globals of Node that the build scripts and the plain JavaScript test fixture use. */
const NODE_GLOBALS = {
  console: 'readonly',
  process: 'readonly',
  URL: 'readonly',
  Buffer: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

export default defineConfig(
  globalIgnores([
    'dist/',
    'out/',
    'node_modules/',
    'media/dist/',
    'demo/',
    '.vscode-test/',
    'e2e-artifacts/',
    'coverage/',
    'test/fixtures/',
  ]),
  {
    files: ['**/*.{ts,mts,mjs,js}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      // `import type` for what is only a type, so a bundle never keeps a module for its types. `typeof import('./x')`
      // stays allowed: the lazily loaded chunks are typed that way without loading them.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // The lazily loaded chunks (dist/transport.js, tokenizer.js, simulator.js) are `require`d by a literal path next
      // to dist/extension.js, which esbuild leaves external: they are parsed only when first needed.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^\\./[A-Za-z]+\\.js$'] }],
      // A zero-width space in a comment is how a doc comment shows a glob such as `a/**/b` without ending itself.
      'no-irregular-whitespace': ['error', { skipComments: true }],
    },
  },
  {
    // No casts outside tests: no `as` (`as const` is allowed: it narrows, it does not assert) and no `!`.
    files: ['src/**/*.ts', 'media/src/**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-assertions': ['error', { assertionStyle: 'never' }],
      '@typescript-eslint/no-non-null-assertion': 'error',
    },
  },
  {
    files: PLAIN_NODE,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [VSCODE_MODULE], patterns: [ADAPTER_LAYER] }],
      'no-restricted-syntax': ['error', ...VSCODE_OTHER_FORMS],
    },
  },
  {
    // The speed panel's script runs in a webview: it takes only types from src/, so its bundle has no extension code.
    files: ['media/src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [VSCODE_MODULE],
          patterns: [
            {
              regex: '(^|/)src/',
              allowTypeImports: true,
              message: 'The webview script imports only types from src/ (its bundle carries no extension code).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: NODE_GLOBALS },
  },
  {
    // Plain CommonJS (the end-to-end suite's instant provider, an extension folder with no build step).
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
