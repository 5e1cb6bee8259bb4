// Helpers for the repository tests: a temp folder filled from a path -> content table, removed after the test.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Writes `files` (POSIX relative path -> text or bytes) under a new temp folder and returns its path. */
export function makeTree(files: Readonly<Record<string, string | Uint8Array>>): string {
  const root = mkdtempSync(join(tmpdir(), 'lc-repo-'));
  writeTree(root, files);
  return root;
}

/** Writes (or overwrites) files under `root`. */
export function writeTree(root: string, files: Readonly<Record<string, string | Uint8Array>>): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

/** Removes a temp tree. */
export function removeTree(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

/** The marker planted in secret files: it must never appear in anything sent to a model. */
export const SECRET_MARKER = 'LC_SECRET_MARKER_7f3a9c';

/** A small repository with every kind of file the index must leave out, and a few it must read. */
export function plantedRepo(): Record<string, string | Uint8Array> {
  return {
    '.gitignore': 'build/\n*.log\n!keep.log\n/generated.ts\n',
    '.latencycopilotignore': 'docs/private/\n',
    '.env': `API_KEY=${SECRET_MARKER}\n`,
    '.env.local': `TOKEN=${SECRET_MARKER}\n`,
    'config/production.env': `DB_PASSWORD=${SECRET_MARKER}\n`,
    'keys/server.pem': `-----BEGIN PRIVATE KEY-----\n${SECRET_MARKER}\n`,
    'keys/server.key': SECRET_MARKER,
    'keys/id_rsa': SECRET_MARKER,
    'keys/id_ed25519.pub': SECRET_MARKER,
    'keys/cert.p12': SECRET_MARKER,
    'credentials.json': `{"secret":"${SECRET_MARKER}"}`,
    'config/secrets.yaml': `password: ${SECRET_MARKER}\n`,
    '.npmrc': `//registry.npmjs.org/:_authToken=${SECRET_MARKER}\n`,
    'package-lock.json': '{"lockfileVersion": 3}\n',
    'yarn.lock': 'lock\n',
    'node_modules/dep/index.js': 'export const dependency = 1;\n',
    'vendor/lib.js': 'export const vendored = 1;\n',
    'build/out.js': 'export const built = 1;\n',
    'debug.log': 'log line\n',
    'keep.log': 'keep this log: rotation policy\n',
    'generated.ts': 'export const generatedAtRoot = 1;\n',
    'nested/generated.ts': 'export const generatedNested = 1;\n',
    'docs/private/notes.md': 'private notes\n',
    'docs/guide.md': '# Guide\nHow the rate limiter works.\n',
    'assets/logo.png': new Uint8Array([137, 80, 78, 71, 0, 0, 0, 13]),
    'assets/data.bin2': new Uint8Array([1, 2, 0, 3, 4]),
    'web/app.min.js': 'var a=1;',
    'web/bundle.js': `${'var x=1;'.repeat(600)}\n`,
    'big/huge.ts': `export const huge = "${'x'.repeat(300 * 1024)}";\n`,
    'src/sub/.gitignore': 'local-only.ts\n',
    'src/sub/local-only.ts': 'export const localOnly = 1;\n',
    'src/sub/shared.ts': 'export function sharedHelper(): number {\n  return 1;\n}\n',
    'src/rateLimiter.ts': [
      "import { sharedHelper } from './sub/shared';",
      '',
      '/** Token bucket rate limiter. */',
      'export class RateLimiter {',
      '  private tokens = 10;',
      '  tryAcquire(): boolean {',
      '    if (this.tokens <= 0) return false;',
      '    this.tokens -= sharedHelper();',
      '    return true;',
      '  }',
      '}',
      '',
    ].join('\n'),
    'src/secretsHandling.ts': 'export function readSecretFromVault(name: string): string {\n  return name;\n}\n',
    'src/main.ts':
      "import { RateLimiter } from './rateLimiter';\n\nexport function main(): void {\n  new RateLimiter().tryAcquire();\n}\n",
    'README.md': '# Planted\nA repository for tests.\n',
  };
}
