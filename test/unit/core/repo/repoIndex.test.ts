import { rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import type { RepoFileRead } from '../../../../src/core/repo/repoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { makeTree, plantedRepo, removeTree, writeTree } from './repoTestTree';

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) removeTree(root);
});

async function indexOf(files: Record<string, string | Uint8Array>): Promise<{ root: string; index: RepoIndex }> {
  const root = makeTree(files);
  roots.push(root);
  const index = new RepoIndex(nodeRepoFileSystem(root));
  await index.build();
  return { root, index };
}

function paths(index: RepoIndex): string[] {
  return [...index.files()].map((file) => file.path).sort();
}

describe('RepoIndex: what it reads', () => {
  it('honours .gitignore (nested, negated, anchored) and .latencycopilotignore, and never reads secrets or junk', async () => {
    const { index } = await indexOf(plantedRepo());
    expect(paths(index)).toEqual([
      '.gitignore',
      '.latencycopilotignore',
      'README.md',
      'docs/guide.md',
      'keep.log',
      'nested/generated.ts',
      'src/main.ts',
      'src/rateLimiter.ts',
      'src/secretsHandling.ts',
      'src/sub/.gitignore',
      'src/sub/shared.ts',
    ]);
    const report = index.report();
    expect(report.excluded.secret).toBe(11);
    expect(report.excluded.lockfile).toBe(2);
    expect(report.excluded.binary).toBe(2);
    expect(report.excluded.minified).toBe(2);
    expect(report.excluded['too-large']).toBe(1);
    expect(report.excluded.vendored).toBe(2);
  });
});

describe('nodeRepoFileSystem.lendFile', () => {
  it('lends each file in one reused buffer, gives a nested read its own, and reports missing and too-large files', async () => {
    const root = makeTree({ 'a.txt': 'alpha', 'b.txt': 'bravo!', 'big.txt': 'x'.repeat(100) });
    roots.push(root);
    const fs = nodeRepoFileSystem(root);
    const text = (read: RepoFileRead): string =>
      read.kind === 'ok' ? new TextDecoder().decode(read.bytes) : read.kind;
    const buffers: ArrayBufferLike[] = [];
    const keep = (read: RepoFileRead): string => {
      if (read.kind === 'ok') buffers.push(read.bytes.buffer);
      return text(read);
    };
    expect(await fs.lendFile('a.txt', 50, keep)).toBe('alpha');
    expect(await fs.lendFile('b.txt', 50, keep)).toBe('bravo!');
    expect(buffers[0]).toBe(buffers[1]);
    const nested = await fs.lendFile('a.txt', 50, (outer) => {
      const outerText = text(outer);
      let innerText = '';
      void fs.lendFile('b.txt', 50, (inner) => {
        innerText = text(inner);
      });
      // The nested read ran synchronously and did not overwrite the outer file's bytes.
      return `${outerText}|${innerText}|${text(outer)}`;
    });
    expect(nested).toBe('alpha|bravo!|alpha');
    expect(await fs.lendFile('big.txt', 50, (read) => (read.kind === 'too-large' ? read.sizeBytes : -1))).toBe(100);
    expect(await fs.lendFile('none.txt', 50, text)).toBe('missing');
    expect(await fs.lendFile('', 50, text)).toBe('missing');
  });
});

describe('RepoIndex: search and outline', () => {
  it('finds chunks by identifier parts and outlines symbols and imports', async () => {
    const { index } = await indexOf(plantedRepo());
    const hits = index.search('how does the rate limiter acquire tokens', 5);
    expect(hits[0]?.path).toBe('src/rateLimiter.ts');
    const file = index.file('src/rateLimiter.ts');
    expect(file?.symbols.map((symbol) => `${symbol.kind} ${symbol.name}`)).toContain('class RateLimiter');
    expect(index.neighbours('src/rateLimiter.ts').sort()).toEqual(['src/main.ts', 'src/sub/shared.ts']);
  });

  it('splits long files into chunks of at most 60 lines', async () => {
    const body = Array.from({ length: 250 }, (_, line) => `export const value${line} = ${line};`).join('\n');
    const { index } = await indexOf({ 'long.ts': body });
    const file = index.file('long.ts');
    expect(file?.lineCount).toBe(250);
    const chunks = (file?.chunkIds ?? []).map((id) => index.chunk(id));
    expect(chunks.length).toBeGreaterThanOrEqual(5);
    expect(chunks[0]).toMatchObject({ startLine: 0 });
    expect(chunks[chunks.length - 1]?.endLine).toBe(250);
    for (const chunk of chunks) expect((chunk?.endLine ?? 0) - (chunk?.startLine ?? 0)).toBeLessThanOrEqual(60);
  });
});

describe('RepoIndex: incremental updates from watcher events', () => {
  it('re-indexes a changed file: new words found, old words gone', async () => {
    const { root, index } = await indexOf({
      'a.ts': 'export function alphaWidget() {}\n',
      'b.ts': 'export const beta = 1;\n',
    });
    expect(index.search('alpha widget', 5)[0]?.path).toBe('a.ts');
    writeFileSync(join(root, 'a.ts'), 'export function gammaGadget() {}\n');
    utimesSync(join(root, 'a.ts'), new Date(), new Date(Date.now() + 5_000));
    expect(await index.update('a.ts')).toBe('changed');
    expect(index.search('alpha widget', 5)).toEqual([]);
    expect(index.search('gamma gadget', 5)[0]?.path).toBe('a.ts');
    expect(await index.update('a.ts')).toBe('unchanged');
  });

  it('adds created files and directories, removes deleted ones, and skips new secrets', async () => {
    const { root, index } = await indexOf({ 'a.ts': 'export const a = 1;\n' });
    writeTree(root, { 'lib/deep/new.ts': 'export const freshThing = 1;\n', '.env.test': 'X=1\n' });
    expect(await index.update('lib')).toBe('rescanned');
    expect(index.isReadable('lib/deep/new.ts')).toBe(true);
    expect(await index.update('.env.test')).toBe('excluded');
    expect(index.isReadable('.env.test')).toBe(false);
    rmSync(join(root, 'lib'), { recursive: true });
    expect(await index.update('lib')).toBe('removed');
    expect(index.isReadable('lib/deep/new.ts')).toBe(false);
    expect(index.search('fresh thing', 5)).toEqual([]);
  });

  it('applies a changed .gitignore to what is already indexed, and ignores events inside ignored directories', async () => {
    const { root, index } = await indexOf({ 'a.ts': 'export const a = 1;\n', 'gen/out.ts': 'export const out = 1;\n' });
    expect(index.isReadable('gen/out.ts')).toBe(true);
    writeTree(root, { '.gitignore': 'gen/\n' });
    expect(await index.update('.gitignore')).toBe('rescanned');
    expect(index.isReadable('gen/out.ts')).toBe(false);
    writeTree(root, { 'gen/other.ts': 'export const other = 1;\n' });
    expect(await index.update('gen/other.ts')).toBe('excluded');
    expect(index.isReadable('gen/other.ts')).toBe(false);
    writeTree(root, { '.gitignore': '' });
    await index.update('.gitignore');
    expect(index.isReadable('gen/out.ts')).toBe(true);
    expect(index.isReadable('gen/other.ts')).toBe(true);
  });

  it("keeps .git/info/exclude when the root's .gitignore changes, and applies a changed info/exclude", async () => {
    const { root, index } = await indexOf({
      '.git/info/exclude': 'private/\n',
      'a.ts': 'export const a = 1;\n',
      'private/notes.ts': 'export const notes = 1;\n',
      'scratch.ts': 'export const scratch = 1;\n',
    });
    expect(index.isReadable('private/notes.ts')).toBe(false);
    // The root's scope holds info/exclude too: reading the root's ignore files again must not drop it.
    writeTree(root, { '.gitignore': 'nothing-here/\n' });
    expect(await index.update('.gitignore')).toBe('rescanned');
    expect(index.isReadable('private/notes.ts')).toBe(false);
    expect(index.isReadable('a.ts')).toBe(true);
    writeTree(root, { '.git/info/exclude': 'private/\nscratch.ts\n' });
    expect(await index.update('.git/info/exclude')).toBe('rescanned');
    expect(index.isReadable('scratch.ts')).toBe(false);
    expect(index.isReadable('private/notes.ts')).toBe(false);
  });
});
