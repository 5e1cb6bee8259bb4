// Benchmark of the repository index (issue 7): cold index, warm update after one file changes, packing a 200,000-token
// budget, and resident memory, on a generated repository of 20,000 files and on a real source tree on this machine.
// Usage: npm run --silent bench:repo -- [--json] [--files 20000] [--real node_modules/typescript] [--keep] [--no-reader-thread]
// Each tree is measured in its own child process, so one tree's memory never counts against the other.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { getHeapSpaceStatistics } from 'node:v8';
import { dirname, join, resolve } from 'node:path';
import { packContext } from '../core/repo/contextPacker';
import { nodeRepoFileSystem } from '../core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../core/repo/repoIndex';
import { countTokens } from '../core/stream/tokenCount';
import { generatedRepository } from './benchRepoTree';

/** What one tree measured. Times in ms, memory in MB. */
interface TreeFigures {
  readonly tree: string;
  readonly files: number;
  readonly indexedFiles: number;
  readonly chunks: number;
  readonly sourceMb: number;
  readonly coldIndexMs: number;
  /** CPU time (user + system) of the cold index, in ms: on a shared, loaded machine it says more than wall time. */
  readonly coldIndexCpuMs: number;
  readonly warmUpdateMs: number;
  readonly warmUpdateMaxMs: number;
  readonly packMs: number;
  /** CPU time of the pack, in ms (most of it is cl100k counting the packed text and the map lines). */
  readonly packCpuMs: number;
  readonly packTokens: number;
  readonly packFiles: number;
  readonly rssMb: number;
  /** RSS before the index was built (Node, the bundle and the loaded tokenizer), and right after it was built. */
  readonly rssBaselineMb: number;
  readonly rssAfterIndexMb: number;
  readonly heapUsedMb: number;
  readonly terms: number;
  readonly postings: number;
  /** The machine's 1-minute load average when the tree was measured (2 cores: above 2 means waiting for CPU). */
  readonly loadAverage: number;
}

const args = process.argv.slice(2);

/** Cold builds of the generated tree, each in its own process; the median is the figure. */
const COLD_SAMPLES = 3;
const flag = (name: string): boolean => args.includes(name);
const option = (name: string, fallback: string): string => {
  const at = args.indexOf(name);
  return at >= 0 ? (args[at + 1] ?? fallback) : fallback;
};

// --- Measuring one tree (in a child process) -------------------------------------------------------------------------

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** With BENCH_REPO_DEBUG=1, prints the heap's spaces to stderr (where the memory of a step went). */
function debugMemory(label: string): void {
  if (process.env.BENCH_REPO_DEBUG !== '1') return;
  const memory = process.memoryUsage();
  const mb = (bytes: number): string => (bytes / 1_048_576).toFixed(1);
  const spaces = getHeapSpaceStatistics()
    .filter((space) => space.space_size > 0)
    .map((space) => `${space.space_name.replace('_space', '')} ${mb(space.space_used_size)}/${mb(space.space_size)}`);
  process.stderr.write(
    `${label}: rss ${mb(memory.rss)} heap ${mb(memory.heapUsed)}/${mb(memory.heapTotal)} external ${mb(memory.external)} (${spaces.join(', ')})\n`,
  );
}

async function measureTree(tree: string, root: string, query: string): Promise<TreeFigures> {
  const fs = nodeRepoFileSystem(
    root,
    flag('--no-reader-thread') ? {} : { readerScript: join(__dirname, 'repoFileReader.js') },
  );
  // The tokenizer's ranks load on first use: load them before timing anything (the extension loads them once too).
  countTokens('warm up the tokenizer');
  const rssBaselineMb = process.memoryUsage().rss / 1_048_576;
  debugMemory('baseline');
  const index = new RepoIndex(fs);
  const coldStart = performance.now();
  const cpuStart = process.cpuUsage();
  const report = await index.build();
  const coldIndexMs = performance.now() - coldStart;
  const cpu = process.cpuUsage(cpuStart);
  const rssAfterIndexMb = process.memoryUsage().rss / 1_048_576;
  debugMemory('after index');
  let rssMb = rssAfterIndexMb;

  // Warm updates: change one indexed file, then apply its watcher event. Several samples, each a different file.
  const files = [...index.files()].map((file) => file.path).filter((path) => /\.(ts|js|md)$/.test(path));
  const samples: number[] = [];
  for (let i = 0; i < Math.min(20, files.length); i += 1) {
    const path = files[Math.floor((i * files.length) / 20)];
    if (path === undefined) continue;
    const full = join(root, path);
    const original = readFileSync(full, 'utf8');
    writeFileSync(full, `${original}\nexport const benchmarkEdit${i} = ${i};\n`);
    const start = performance.now();
    await index.update(path);
    samples.push(performance.now() - start);
    writeFileSync(full, original);
    await index.update(path);
  }

  const packStart = performance.now();
  const packCpuStart = process.cpuUsage();
  const packed = await packContext(index, fs, { query, budgetTokens: 200_000 }, countTokens);
  const packMs = performance.now() - packStart;
  debugMemory('after pack');
  const packCpu = process.cpuUsage(packCpuStart);
  rssMb = Math.max(rssMb, process.memoryUsage().rss / 1_048_576);
  let sourceBytes = 0;
  for (const file of index.files()) sourceBytes += file.sizeBytes;
  return {
    tree,
    files: report.files + Object.values(report.excluded).reduce((sum, count) => sum + count, 0),
    indexedFiles: report.files,
    chunks: report.chunks,
    sourceMb: Math.round((sourceBytes / 1_048_576) * 10) / 10,
    coldIndexMs: Math.round(coldIndexMs),
    coldIndexCpuMs: Math.round((cpu.user + cpu.system) / 1000),
    warmUpdateMs: Math.round(median(samples) * 100) / 100,
    warmUpdateMaxMs: Math.round(Math.max(0, ...samples) * 100) / 100,
    packMs: Math.round(packMs),
    packCpuMs: Math.round((packCpu.user + packCpu.system) / 1000),
    packTokens: packed.tokens,
    packFiles: packed.files,
    rssMb: Math.round(rssMb),
    rssBaselineMb: Math.round(rssBaselineMb),
    rssAfterIndexMb: Math.round(rssAfterIndexMb),
    heapUsedMb: Math.round(process.memoryUsage().heapUsed / 1_048_576),
    ...index.sizes(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 10) / 10,
  };
}

function runChild(tree: string, root: string, query: string): TreeFigures {
  const child = spawnSync(
    process.execPath,
    [
      __filename,
      '--child',
      tree,
      '--root',
      root,
      '--query',
      query,
      ...args.filter((arg) => arg === '--no-reader-thread'),
    ],
    {
      encoding: 'utf8',
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  if (child.status !== 0) throw new Error(`benchmark child for ${tree} failed: ${child.stderr}`);
  const parsed: unknown = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}');
  if (!isTreeFigures(parsed)) throw new Error(`benchmark child for ${tree} printed no figures`);
  return parsed;
}

function isTreeFigures(value: unknown): value is TreeFigures {
  return typeof value === 'object' && value !== null && 'coldIndexMs' in value && typeof value.coldIndexMs === 'number';
}

async function main(): Promise<void> {
  if (flag('--child')) {
    const figures = await measureTree(option('--child', 'tree'), option('--root', '.'), option('--query', 'service'));
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const fileCount = Number(option('--files', '20000'));
  const realRoot = resolve(option('--real', join('node_modules', 'typescript')));
  const cacheRoot = generatedRepository(fileCount);
  // Three cold builds, each in a fresh process (cold JIT, as in a new window): this shared 2-core VM runs the same code
  // 30-50% slower in some minutes than in others, so one sample says more about the minute than about the index.
  // The median is reported; every sample is listed, and memory is the largest seen.
  const samples = Array.from({ length: COLD_SAMPLES }, () =>
    runChild(`generated-${fileCount}`, cacheRoot, 'how are invoice payments validated and saved for a user account'),
  );
  const byCold = [...samples].sort((a, b) => a.coldIndexMs - b.coldIndexMs);
  const middle = byCold[Math.floor(byCold.length / 2)];
  if (middle === undefined) throw new Error('no benchmark samples');
  const generated: TreeFigures & { readonly coldIndexSamplesMs: readonly number[] } = {
    ...middle,
    rssMb: Math.max(...samples.map((sample) => sample.rssMb)),
    coldIndexSamplesMs: samples.map((sample) => sample.coldIndexMs),
  };
  const real = existsSync(realRoot)
    ? runChild(realRoot, realRoot, 'how does the type checker resolve module imports')
    : null;
  const targets = { coldIndexMs: 1_500, warmUpdateMs: 100, rssMb: 150 };
  const result = {
    files: generated.files,
    coldIndexMs: generated.coldIndexMs,
    warmUpdateMs: generated.warmUpdateMs,
    packMs: generated.packMs,
    rssMb: generated.rssMb,
    coldIndexCpuMs: generated.coldIndexCpuMs,
    targets,
    meets: {
      coldIndexMs: generated.coldIndexMs <= targets.coldIndexMs,
      warmUpdateMs: generated.warmUpdateMs <= targets.warmUpdateMs,
      rssMb: generated.rssMb <= targets.rssMb,
    },
    generated,
    real,
    node: process.version,
  };
  if (!flag('--keep') && flag('--clean')) rmSync(cacheRoot, { recursive: true, force: true });
  if (flag('--json')) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  for (const figures of [generated, real]) {
    if (figures === null) continue;
    process.stdout.write(
      `${figures.tree}: ${figures.files} files (${figures.indexedFiles} indexed, ${figures.sourceMb} MB, ${figures.chunks} chunks)\n` +
        `  cold index ${figures.coldIndexMs} ms${figures === generated ? ` (median of ${generated.coldIndexSamplesMs.join(', ')})` : ''} (${figures.coldIndexCpuMs} ms CPU, load average ${figures.loadAverage}), warm update ${figures.warmUpdateMs} ms (max ${figures.warmUpdateMaxMs} ms), ` +
        `pack 200k tokens ${figures.packMs} ms (${figures.packTokens} tokens, ${figures.packFiles} files), rss ${figures.rssMb} MB\n`,
    );
  }
  process.stdout.write(`targets: cold <= 1500 ms, warm <= 100 ms, rss <= 150 MB (${dirname(cacheRoot)})\n`);
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
