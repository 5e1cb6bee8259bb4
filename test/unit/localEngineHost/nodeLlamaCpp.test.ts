// Where the local engine host loads node-llama-cpp from (issue 14, item 8): only `<nodeLlamaCppPath>/node_modules/
// node-llama-cpp` or that folder itself, checked before anything is imported. A module planted in a parent folder's
// node_modules (anyone can create `C:\node_modules`) must never run. The stand-in packages write a marker file when
// imported, so "never imported" is observable.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchHost } from '../../../src/core/localEngine/hostLauncher';
import { LocalEngineError } from '../../../src/core/localEngine/localEngineError';
import {
  importNodeLlamaCpp,
  locateNodeLlamaCpp,
  nodeLlamaCppMissingMessage,
} from '../../../src/localEngineHost/nodeLlamaCpp';
import { buildLocalEngineHost } from '../builders/localEngineHost';

let root = '';

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'latency-copilot-module-load-'));
});

afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A stand-in node-llama-cpp whose entry writes `marker` when imported; `exportsApi` gives it the functions the host checks. */
function plantPackage(
  packageDir: string,
  marker: string,
  manifest: Record<string, unknown> = {},
  exportsApi = false,
): void {
  mkdirSync(join(packageDir, 'dist'), { recursive: true });
  writeFileSync(
    join(packageDir, 'package.json'),
    JSON.stringify({
      name: 'node-llama-cpp',
      version: '3.0.0',
      type: 'module',
      exports: {
        '.': {
          import: './dist/index.js',
          node: './dist/index.js',
          types: './dist/index.d.ts',
          default: './dist/index.js',
        },
      },
      ...manifest,
    }),
  );
  const api = exportsApi
    ? 'export function getLlama() {} export class LlamaCompletion {} export class TokenBias {} export function resolveChatWrapper() { return null; }'
    : '';
  writeFileSync(
    join(packageDir, 'dist', 'index.js'),
    `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'imported');\n${api}\n`,
  );
}

function folder(...parts: string[]): string {
  const path = join(root, ...parts);
  mkdirSync(path, { recursive: true });
  return path;
}

describe('locateNodeLlamaCpp', () => {
  it('never finds a package planted in an ancestor folder, and the message says where it looked', () => {
    const tree = folder('ancestor');
    const marker = join(tree, 'planted-ran');
    plantPackage(join(tree, 'node_modules', 'node-llama-cpp'), marker, {}, true);
    const configured = folder('ancestor', 'home', 'person', 'engine');
    const location = locateNodeLlamaCpp(configured);
    expect(location.found).toBe(false);
    if (location.found) return;
    expect(location.looked).toEqual([
      join(configured, 'node_modules', 'node-llama-cpp', 'package.json'),
      join(configured, 'package.json'),
    ]);
    const message = nodeLlamaCppMissingMessage(configured, location);
    expect(message).toContain(join(configured, 'node_modules', 'node-llama-cpp', 'package.json'));
    expect(message).toContain('latencyCopilot.localEngine.nodeLlamaCppPath');
    expect(existsSync(marker)).toBe(false);
  });

  it('finds <folder>/node_modules/node-llama-cpp and the package folder itself, entry from its own exports; imports only then', async () => {
    const installed = folder('installed');
    const marker = join(installed, 'ran');
    plantPackage(join(installed, 'node_modules', 'node-llama-cpp'), marker, {}, true);
    const location = locateNodeLlamaCpp(installed);
    expect(location).toEqual({
      found: true,
      packageDir: join(installed, 'node_modules', 'node-llama-cpp'),
      entry: join(installed, 'node_modules', 'node-llama-cpp', 'dist', 'index.js'),
    });
    expect(existsSync(marker)).toBe(false);
    if (!location.found) return;
    expect(await importNodeLlamaCpp(location)).not.toBeNull();
    expect(existsSync(marker)).toBe(true);

    const packageItself = folder('package-itself');
    plantPackage(packageItself, join(packageItself, 'ran'), { exports: undefined, main: './dist/index.js' });
    expect(locateNodeLlamaCpp(packageItself)).toMatchObject({
      found: true,
      entry: join(packageItself, 'dist', 'index.js'),
    });
  });

  it('refuses, before importing, a package of another name and an entry that points outside the package', () => {
    const wrongName = folder('wrong-name');
    const marker = join(wrongName, 'ran');
    plantPackage(join(wrongName, 'node_modules', 'node-llama-cpp'), marker, { name: 'not-llama' });
    const named = locateNodeLlamaCpp(wrongName);
    expect(named.found).toBe(false);
    expect(named.found ? [] : named.problems.join(' ')).toContain('"not-llama"');

    const escaping = folder('escaping');
    plantPackage(join(escaping, 'node_modules', 'node-llama-cpp'), marker, {
      exports: { '.': { import: '../../../evil.js' } },
    });
    const outside = locateNodeLlamaCpp(escaping);
    expect(outside.found).toBe(false);
    expect(outside.found ? [] : outside.problems.join(' ')).toContain('outside the package');
    expect(existsSync(marker)).toBe(false);
  });
});

describe('the engine host with node-llama-cpp only in an ancestor folder', () => {
  it('reports binary-missing with the places it looked, and the planted module never runs', async () => {
    const buildDir = folder('host-build');
    const hostScript = join(buildDir, 'localEngineHost.js');
    // The same entry and externals as esbuild.mjs.
    await buildLocalEngineHost(hostScript);
    const tree = folder('host-tree');
    const marker = join(tree, 'planted-ran');
    plantPackage(join(tree, 'node_modules', 'node-llama-cpp'), marker, {}, true);
    const configured = folder('host-tree', 'engine');
    const modelPath = join(configured, 'model.gguf');
    writeFileSync(modelPath, 'GGUF');
    const error = await launchHost({
      hostScript,
      args: { modelPath, moduleDir: configured, contextSize: 128, threads: 1 },
      startTimeoutMs: 30_000,
    }).then(
      () => null,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LocalEngineError);
    expect(error instanceof LocalEngineError ? error.reason : null).toBe('binary-missing');
    expect(error instanceof LocalEngineError ? error.message : '').toContain(
      join(configured, 'node_modules', 'node-llama-cpp', 'package.json'),
    );
    expect(existsSync(marker)).toBe(false);
  });
});
