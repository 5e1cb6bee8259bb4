// The layer rules and the no-cast rule are ESLint's (eslint.config.mjs, run by `npm run lint` and `npm test`). These tests
// lint small snippets with that same file, so a rule lost in an edit of the config fails here instead of going quiet,
// and they check what ESLint cannot: that every folder of src/ is covered, and that `npm test` runs the linter.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

/** The rule ids ESLint reports for `code` as if it were the file at `filePath` (relative to the repository root). */
async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, filePath) });
  if (result === undefined) throw new Error(`ESLint returned no result for ${filePath}`);
  const fatal = result.messages.find((message) => message.fatal === true);
  if (fatal !== undefined) throw new Error(`${filePath} did not parse: ${fatal.message}`);
  return result.messages.map((message) => message.ruleId ?? 'none');
}

/** Folders under src/ whose code runs as plain Node: everything but the adapter layer. */
const plainNodeFolders = readdirSync(join(root, 'src')).filter(
  (name) => name !== 'vscode' && statSync(join(root, 'src', name)).isDirectory(),
);

const VSCODE_FORMS = [
  "import * as vscode from 'vscode';\nexport const a = vscode;\n",
  "import type { Uri } from 'vscode';\nexport type A = Uri;\n",
  "export const a = import('vscode');\n",
  "export const a: unknown = require('vscode');\n",
  "export type A = import('vscode').Uri;\n",
];

describe('architecture invariants (through eslint.config.mjs)', () => {
  it('finds the folders it checks', () => {
    expect(plainNodeFolders).toEqual(expect.arrayContaining(['core', 'sim', 'chunks']));
  });

  it.each(plainNodeFolders)('src/%s never imports vscode, in any form (invariants 1 and 2)', async (folder) => {
    for (const code of VSCODE_FORMS) {
      const ids = await ruleIds(`src/${folder}/x.ts`, code);
      expect(ids, code).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/^(@typescript-eslint\/no-restricted-imports|no-restricted-syntax)$/),
        ]),
      );
    }
  });

  it.each(plainNodeFolders)('src/%s never imports from the adapter layer', async (folder) => {
    const ids = await ruleIds(
      `src/${folder}/deeper/x.ts`,
      "import { log } from '../../vscode/log';\nexport const a = log;\n",
    );
    expect(ids).toContain('@typescript-eslint/no-restricted-imports');
    expect(await ruleIds(`src/${folder}/x.ts`, "import { x } from './vscodeLike';\nexport const a = x;\n")).toEqual([]);
  });

  it('the adapter layer and the composition root may import vscode', async () => {
    const code = "import * as vscode from 'vscode';\nexport const a = vscode;\n";
    expect(await ruleIds('src/vscode/x.ts', code)).toEqual([]);
    expect(await ruleIds('src/extension.ts', code)).toEqual([]);
  });

  it('no `any`, in source or tests (invariant 9)', async () => {
    expect(await ruleIds('src/core/x.ts', 'export const a: any = 1;\n')).toEqual([
      '@typescript-eslint/no-explicit-any',
    ]);
    expect(await ruleIds('test/unit/x.ts', 'export const a: Array<any> = [];\n')).toEqual([
      '@typescript-eslint/no-explicit-any',
    ]);
  });

  it('no `as`, `<T>` or `!` cast outside tests; `as const` is fine (invariant 9)', async () => {
    const cast = "type Foo = { a: number };\nexport const a = JSON.parse('1') as Foo;\n";
    for (const filePath of ['src/core/x.ts', 'src/vscode/x.ts', 'src/x.ts', 'media/src/x.ts']) {
      expect(await ruleIds(filePath, cast), filePath).toEqual(['@typescript-eslint/consistent-type-assertions']);
    }
    expect(await ruleIds('src/core/x.ts', 'export const a = <number>JSON.parse("1");\n')).toEqual([
      '@typescript-eslint/consistent-type-assertions',
    ]);
    expect(await ruleIds('src/core/x.ts', 'export const a = [1].find(Boolean)!;\n')).toEqual([
      '@typescript-eslint/no-non-null-assertion',
    ]);
    expect(await ruleIds('src/core/x.ts', "export const a = ['x', 'y'] as const;\n")).toEqual([]);
    expect(await ruleIds('test/unit/x.ts', cast)).toEqual([]);
  });

  it('the webview script takes only types from src/', async () => {
    const from = "'../../src/core/speed/panelProtocol'";
    expect(await ruleIds('media/src/x.ts', `import { f } from ${from};\nexport const a = f;\n`)).toEqual([
      '@typescript-eslint/no-restricted-imports',
    ]);
    expect(await ruleIds('media/src/x.ts', `import type { T } from ${from};\nexport type A = T;\n`)).toEqual([]);
  });

  it('`npm test` runs the linter and the format check', () => {
    const manifest: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    const scripts = typeof manifest === 'object' && manifest !== null && 'scripts' in manifest ? manifest.scripts : {};
    expect(scripts).toMatchObject({
      test: expect.stringContaining('npm run --silent lint'),
      lint: expect.stringMatching(/^eslint .*\. && prettier --check .*\.$/),
    });
  });
});

describe('src/ARCHITECTURE.md is a map of every folder', () => {
  const map = readFileSync(join(root, 'src', 'ARCHITECTURE.md'), 'utf8');
  const headings = map.split('\n').filter((line) => line.startsWith('### '));
  const folders = [
    ...readdirSync(join(root, 'src'))
      .filter((name) => statSync(join(root, 'src', name)).isDirectory())
      .map((name) => `src/${name}/`),
    ...readdirSync(join(root, 'src', 'core'))
      .filter((name) => statSync(join(root, 'src', 'core', name)).isDirectory())
      .map((name) => `src/core/${name}/`),
  ];

  it.each(folders)('%s has a section (a heading naming it)', (folder) => {
    expect(headings.some((heading) => heading.includes(`\`${folder}\``))).toBe(true);
  });

  it('names no issue numbers: it describes the code, not its history', () => {
    expect(map).not.toMatch(/\bissue\s*#?\d+/i);
  });
});

describe('each folder imports only what src/ARCHITECTURE.md says it may', () => {
  /** Folder -> the folders it may import from (besides itself); the table src/ARCHITECTURE.md states folder by folder. */
  const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
    core: [],
    'core/stream': ['core', 'core/protocols'],
    'core/protocols': ['core', 'core/stream'],
    'core/routing': ['core', 'core/stream'],
    'core/generation': ['core', 'core/stream', 'core/routing', 'core/config'],
    'core/config': ['core'],
    'core/speed': [
      'core',
      'core/stream',
      'core/routing',
      'core/generation',
      'core/config',
      'core/inline',
      'core/nextEdit',
      'core/cost',
    ],
    'core/commands': ['core', 'core/config', 'core/speed', 'core/refactor'],
    'core/inline': ['core', 'core/stream', 'core/generation', 'core/config', 'core/repo', 'core/cost'],
    'core/refactor': ['core', 'core/generation'],
    'core/repo': ['core', 'core/generation', 'core/routing'],
    'core/nextEdit': [
      'core',
      'core/stream',
      'core/generation',
      'core/routing',
      'core/config',
      'core/inline',
      'core/refactor',
      'core/cost',
    ],
    'core/cost': ['core', 'core/config'],
    'core/localEngine': ['core', 'core/stream', 'core/config'],
    localEngineHost: ['core', 'core/localEngine'],
    repoFileReader: ['core/repo'],
    sim: ['core', 'core/repo', 'core/nextEdit'],
    chunks: ['core/stream', 'sim'],
  };

  /** The folder a source file belongs to: `core` for the kernel, `core/<room>`, or the folder under src/. */
  function folderOf(relativePath: string): string {
    const parts = relativePath.split('/');
    if (parts[0] === 'core') return parts.length > 2 ? `core/${parts[1]}` : 'core';
    return parts.length > 1 ? (parts[0] ?? '') : relativePath;
  }

  const sources = (function walk(dir: string): string[] {
    return readdirSync(dir).flatMap((name) => {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) return walk(full);
      return name.endsWith('.ts') ? [full] : [];
    });
  })(join(root, 'src'));

  it('the table names every folder that has code, and the check sees imports', () => {
    const folders = new Set(sources.map((file) => folderOf(relative(join(root, 'src'), file))));
    for (const folder of folders) {
      if (['vscode', 'tools', 'extension.ts'].includes(folder)) continue;
      expect(Object.keys(MAY_IMPORT)).toContain(folder);
    }
  });

  it.each(Object.keys(MAY_IMPORT))('src/%s imports only from its own folder and the ones allowed', (folder) => {
    const offenders: string[] = [];
    for (const file of sources) {
      const from = relative(join(root, 'src'), file);
      if (folderOf(from) !== folder) continue;
      for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
        const target = relative(join(root, 'src'), join(dirname(file), match[1] ?? ''));
        const targetFolder = folderOf(`${target}.ts`);
        if (targetFolder !== folder && !(MAY_IMPORT[folder] ?? []).includes(targetFolder))
          offenders.push(`${from} -> ${target}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
