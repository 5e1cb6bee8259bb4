// The generated repository the repository benchmarks share (bench:repo, bench:repo-cache): deterministic, so that its
// figures compare across runs, and kept in the temporary directory between runs.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// --- A deterministic generated repository -------------------------------------------------------------------------

// prettier-ignore
const WORDS = [
  'user', 'account', 'order', 'invoice', 'payment', 'cart', 'session', 'token', 'cache', 'queue', 'worker', 'job',
  'report', 'metric', 'event', 'stream', 'buffer', 'parser', 'lexer', 'schema', 'record', 'table', 'index', 'query',
  'router', 'handler', 'request', 'response', 'client', 'server', 'config', 'setting', 'profile', 'address', 'email',
  'message', 'channel', 'notice', 'policy', 'limit', 'quota', 'price', 'product', 'catalog', 'search', 'filter', 'sort',
  'page', 'view', 'model', 'store', 'state', 'action', 'effect', 'plugin', 'module', 'graph', 'node', 'edge', 'path',
];

function makeRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 4_294_967_296;
  };
}

function pick<T>(random: () => number, items: readonly T[]): T {
  const item = items[Math.floor(random() * items.length)];
  if (item === undefined) throw new Error('empty list');
  return item;
}

function capital(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** One TypeScript module of 30-120 lines: imports of siblings, an interface, a class with methods, functions. */
function moduleSource(random: () => number, siblings: readonly string[]): string {
  const noun = pick(random, WORDS);
  const other = pick(random, WORDS);
  const type = `${capital(noun)}${capital(other)}`;
  const lines: string[] = [];
  const imports = Math.floor(random() * 3);
  for (let i = 0; i < imports; i += 1) {
    const sibling = pick(random, siblings);
    lines.push(`import { ${sibling}Service } from './${sibling}';`);
  }
  lines.push(
    '',
    `/** A ${noun} ${other} as the ${pick(random, WORDS)} layer sees it. */`,
    `export interface ${type} {`,
  );
  const fields = 3 + Math.floor(random() * 6);
  for (let i = 0; i < fields; i += 1)
    lines.push(
      `  readonly ${pick(random, WORDS)}${capital(pick(random, WORDS))}: ${pick(random, ['string', 'number', 'boolean', `${type}[]`])};`,
    );
  lines.push('}', '', `export class ${type}Service {`, `  private readonly items = new Map<string, ${type}>();`, '');
  const methods = 2 + Math.floor(random() * 6);
  for (let m = 0; m < methods; m += 1) {
    const verb = pick(random, ['load', 'save', 'find', 'update', 'remove', 'validate', 'merge', 'compute', 'render']);
    const target = pick(random, WORDS);
    lines.push(
      `  /** ${capital(verb)}s the ${target} of a ${noun}. */`,
      `  ${verb}${capital(target)}(id: string, limit = ${Math.floor(random() * 100)}): ${type} | undefined {`,
    );
    const body = 2 + Math.floor(random() * 8);
    for (let b = 0; b < body; b += 1) {
      lines.push(`    const ${pick(random, WORDS)}${b} = this.items.get(id + '${pick(random, WORDS)}') ?? null;`);
      if (random() < 0.3) lines.push(`    if (limit > ${b * 7}) return undefined;`);
    }
    lines.push('    return this.items.get(id);', '  }', '');
  }
  lines.push(
    '}',
    '',
    `export function create${type}Service(): ${type}Service {`,
    `  return new ${type}Service();`,
    '}',
    '',
  );
  return lines.join('\n');
}

/** Writes a repository of `fileCount` files (plus a .gitignore, ignored build output and a planted .env). */
export function generateRepository(root: string, fileCount: number): void {
  const random = makeRandom(7);
  const perDirectory = 50;
  writeFileSync(join(root, '.gitignore'), 'dist/\n*.log\n');
  writeFileSync(join(root, '.env'), 'API_KEY=not-for-prompts\n');
  writeFileSync(join(root, 'README.md'), '# Generated\nA generated repository for the index benchmark.\n');
  for (let i = 0; i < fileCount; i += 1) {
    const directoryIndex = Math.floor(i / perDirectory);
    const directory = join(
      root,
      'packages',
      `pkg${Math.floor(directoryIndex / 20)}`,
      'src',
      `area${directoryIndex % 20}`,
    );
    if (i % perDirectory === 0) mkdirSync(directory, { recursive: true });
    const siblings = Array.from({ length: 5 }, (_, k) => `mod${i - (i % perDirectory) + ((i + k + 1) % perDirectory)}`);
    writeFileSync(join(directory, `mod${i}.ts`), moduleSource(random, siblings));
  }
  mkdirSync(join(root, 'dist'), { recursive: true });
  writeFileSync(join(root, 'dist', 'bundle.js'), 'ignored();\n');
}

/** The generated repository of `fileCount` files in the temporary directory, written on first use; its root. */
export function generatedRepository(fileCount: number): string {
  const root = join(tmpdir(), `latency-copilot-bench-repo-${fileCount}`);
  const marker = join(root, '.complete');
  if (!existsSync(marker)) {
    rmSync(root, { recursive: true, force: true });
    mkdirSync(root, { recursive: true });
    generateRepository(root, fileCount);
    writeFileSync(marker, 'ok\n');
  }
  return root;
}
