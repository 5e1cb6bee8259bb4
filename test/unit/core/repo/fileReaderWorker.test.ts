// The repository index's reader thread (dist/repoFileReader.js): a cold index built from files read and analysed on a
// worker thread must be the very index built on one thread, in every detail the index exposes.
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import type { NodeRepoFileSystemOptions } from '../../../../src/core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import type { BuildReport } from '../../../../src/core/repo/repoIndex';
import { makeTree, plantedRepo, removeTree } from './repoTestTree';
import { buildReaderScript } from '../../builders/repoFileSystems';

let readerScript = '';
let disposeReader = (): void => undefined;
const roots: string[] = [];

beforeAll(async () => {
  // The same entry point esbuild.mjs builds into dist/repoFileReader.js.
  const reader = await buildReaderScript('repo-reader-');
  readerScript = reader.script;
  disposeReader = () => reader.dispose();
}, 60_000);

afterAll(() => {
  for (const root of roots.splice(0)) removeTree(root);
  disposeReader();
});

/** A repository with the planted junk and secrets, many modules (several batches), and one file larger than a batch. */
function largeTree(): Record<string, string | Uint8Array> {
  const files: Record<string, string | Uint8Array> = { ...plantedRepo() };
  for (let module = 0; module < 400; module += 1) {
    const lines = [`import { helper${(module + 1) % 400} } from './mod${(module + 1) % 400}';`, ''];
    for (let fn = 0; fn < 12; fn += 1) {
      lines.push(`export function helper${module}Step${fn}(invoiceTotal: number): number {`);
      for (let body = 0; body < 8; body += 1) lines.push(`  const paymentValue${body} = invoiceTotal * ${body + fn};`);
      lines.push('  return invoiceTotal;', '}', '');
    }
    files[`src/area${module % 7}/mod${module}.ts`] = lines.join('\n');
  }
  files['src/huge.ts'] = Array.from(
    { length: 9_000 },
    (_, line) => `export const hugeTableEntry${line} = '${line}';`,
  ).join('\n');
  return files;
}

/** Everything the index exposes about its contents, in a comparable form. */
function snapshotOf(index: RepoIndex): unknown {
  const files = [...index.files()]
    .map((file) => ({
      path: file.path,
      sizeBytes: file.sizeBytes,
      lineCount: file.lineCount,
      chunks: file.chunkIds.map((id) => index.chunk(id)),
      symbols: file.symbols,
      imports: file.imports,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : 1));
  const queries = ['invoice total payment value', 'huge table entry', 'rate limiter tokens', 'helper17Step3'];
  return {
    report: index.report(),
    sizes: index.sizes(),
    files,
    searches: queries.map((query) =>
      index.search(query, 20).map((hit) => [hit.path, hit.startLine, hit.score.toFixed(6)]),
    ),
    neighbours: index.neighbours('src/area3/mod10.ts').sort(),
  };
}

async function buildWith(root: string, options: NodeRepoFileSystemOptions): Promise<RepoIndex> {
  return (await buildReporting(root, options)).index;
}

async function buildReporting(
  root: string,
  options: NodeRepoFileSystemOptions,
): Promise<{ index: RepoIndex; report: BuildReport }> {
  const index = new RepoIndex(nodeRepoFileSystem(root, options), { maxFileBytes: 1024 * 1024 });
  const report = await index.build();
  return { index, report };
}

describe('RepoIndex built through the reader thread', () => {
  it('uses this thread for a small tree (a thread costs more to start than it saves)', async () => {
    const root = makeTree(plantedRepo());
    roots.push(root);
    const { report } = await buildReporting(root, { readerScript });
    expect(report).toMatchObject({ readBy: 'this thread', readerProblem: null });
  });

  it('is the same index as one built on a single thread (several batches, a file larger than a batch)', async () => {
    const root = makeTree(largeTree());
    roots.push(root);
    const single = snapshotOf(await buildWith(root, {}));
    const { index: threadedBuild, report: built } = await buildReporting(root, { readerScript, readAheadMinFiles: 0 });
    expect(built).toMatchObject({ readBy: 'reader thread', readerProblem: null });
    expect(snapshotOf(threadedBuild)).toEqual(single);
    // The tree really exercised what matters: secrets and junk left out (with a 1 MB limit the planted 300 KB one-line
    // file is read and judged minified), and src/huge.ts (400 KB, more than a batch) indexed in many chunks.
    const threadedIndex = await buildWith(root, { readerScript, readAheadMinFiles: 0 });
    const report = threadedIndex.report();
    expect(report.excluded.secret).toBe(11);
    expect(report.excluded.minified).toBe(3);
    expect(report.files).toBeGreaterThan(400);
    expect(threadedIndex.file('src/huge.ts')?.chunkIds.length).toBeGreaterThanOrEqual(150);
  });

  it('falls back to reading on this thread when the reader cannot start, losing no file', async () => {
    const root = makeTree(largeTree());
    roots.push(root);
    const single = snapshotOf(await buildWith(root, {}));
    const { index: fallen, report } = await buildReporting(root, {
      readerScript: join(dirname(readerScript), 'no-such-reader.js'),
      readAheadMinFiles: 0,
    });
    expect(snapshotOf(fallen)).toEqual(single);
    expect(report.readBy).toBe('this thread');
    expect(report.readerProblem).toMatch(/no-such-reader\.js/);
  });

  it('stops when the build is aborted, with the signal reason', async () => {
    const root = makeTree(largeTree());
    roots.push(root);
    const index = new RepoIndex(nodeRepoFileSystem(root, { readerScript, readAheadMinFiles: 0 }));
    const controller = new AbortController();
    const building = index.build(controller.signal);
    controller.abort(new Error('person cancelled'));
    await expect(building).rejects.toThrow('person cancelled');
  });
});
