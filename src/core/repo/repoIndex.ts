import { Bm25Index } from './bm25Index';
import { countTerms, newTermDictionary, queryTerms } from './codeTerms';
import { TermCounts } from './termDictionary';
import { LineStarts } from './lineStarts';
import { analyseFile, BOUND_FIELDS, RECORD_SEPARATOR } from './fileAnalysis';
import type { FileAnalysis } from './fileAnalysis';
import { IGNORE_FILE_NAMES, REPOSITORY_EXCLUDE_FILE } from './fileGate';
import { DEFAULT_MAX_FILE_BYTES, exclusionByPath, isSkippedDirectory } from './fileSafety';
import type { ExclusionReason } from './fileSafety';
import { compileIgnoreFile, IgnoreRules, parentOf } from './ignoreRules';
import type { Clock } from '../clock';
import { systemClock } from '../clock';
import type { LendOutcome, RepoFileRead, RepoFileSystem } from './repoFileSystem';
import { resolveImport } from './sourceOutline';
import type { OutlineSymbol } from './sourceOutline';

/** The extension's own ignore file (same syntax as `.gitignore`), read in every directory like `.gitignore`. */
export const OWN_IGNORE_FILE = '.latencycopilotignore';

/** The most of an ignore file read, in bytes (`.gitignore`, the own file); info/exclude is read up to 64 KB. */
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;
const MAX_REPOSITORY_EXCLUDE_BYTES = 64 * 1024;

/** Files read at once while indexing: enough to hide file-system latency, few enough not to starve the host. */
const READ_CONCURRENCY = 16;

/** Longest stretch of indexing work between two yields to the event loop, in ms (the editor stays responsive). */
const SLICE_MS = 12;

/** Options of the index. */
export interface RepoIndexOptions {
  /** Files larger than this (bytes) are left out. */
  readonly maxFileBytes?: number;
  /** Time source for yielding between slices of work. */
  readonly clock?: Clock;
}

/** A file the index holds. Lines are 0-based; `endLine` is exclusive. */
export interface IndexedFile {
  readonly path: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly lineCount: number;
  readonly chunkIds: readonly number[];
  readonly symbols: readonly OutlineSymbol[];
  readonly imports: readonly string[];
}

/**
 * An indexed file as the index keeps it: the outline as two flat strings (symbols as `kind name line` records, imports
 * as specifiers), unpacked only when asked for. Arrays of symbol objects and their name strings cost about 350 bytes a
 * file (7 MB over 20,000 files) and made V8 double its young generation while indexing; the map and the import
 * neighbours read them for a few hundred files at a time.
 */
class IndexedFileRecord implements IndexedFile {
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly mtimeMs: number,
    readonly lineCount: number,
    readonly chunkIds: readonly number[],
    private readonly symbolRecords: string,
    /** The import specifiers joined by `RECORD_SEPARATOR` ('' for none). */
    readonly importRecords: string,
  ) {}

  get symbols(): readonly OutlineSymbol[] {
    if (this.symbolRecords === '') return NOTHING;
    return this.symbolRecords.split(RECORD_SEPARATOR).map((record) => {
      const [kind = '', name = '', line = '0'] = record.split(' ');
      return { kind, name, line: Number(line) };
    });
  }

  get imports(): readonly string[] {
    return this.importRecords === '' ? NOTHING : this.importRecords.split(RECORD_SEPARATOR);
  }
}

/** Where a chunk lives. */
export interface ChunkLocation {
  readonly path: string;
  readonly startLine: number;
  readonly endLine: number;
}

/** A search hit. */
export interface ChunkHit extends ChunkLocation {
  readonly chunkId: number;
  readonly score: number;
}

/** What a build saw: files indexed, and files left out by reason (`ignored` = .gitignore or the own ignore file). */
export interface IndexReport {
  readonly files: number;
  readonly chunks: number;
  readonly excluded: Readonly<Record<ExclusionReason | 'ignored', number>>;
}

/** What a build saw, and which thread read the files (`lendFiles`: the reader thread on a large tree). */
export interface BuildReport extends IndexReport {
  readonly readBy: LendOutcome['readBy'];
  readonly readerProblem: string | null;
}

/** What one watcher event did to the index. */
export type UpdateOutcome = 'added' | 'changed' | 'removed' | 'unchanged' | 'excluded' | 'rescanned';

function emptyExclusions(): Record<ExclusionReason | 'ignored', number> {
  return { secret: 0, binary: 0, lockfile: 0, minified: 0, vendored: 0, 'too-large': 0, ignored: 0 };
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/**
 * A cheap test that an import specifier might resolve to `path` (false only when it cannot): a specifier that
 * resolves to a file names its stem (`./a.js`, `pkg.a`, `a.h` for `a.ts`, `pkg/a.py`, `a.h`) or, for an index file,
 * its directory (`./lib` for `lib/index.ts`), unless it only climbs (`.`, `..`, `./x/..`).
 */
export function mayNameFile(path: string): (specifier: string) => boolean {
  const name = baseName(path);
  const dot = name.indexOf('.', 1);
  const stem = dot < 0 ? name : name.slice(0, dot);
  const directory = baseName(parentOf(path));
  return (specifier) => {
    const last = specifier.charCodeAt(specifier.length - 1);
    if (last === 46 || last === 47 || specifier.length === 0) return true;
    return specifier.includes(stem) || (directory !== '' && specifier.includes(directory));
  };
}

/**
 * A copy of `items` with no spare capacity, or one shared empty array. An array grown by `push` reserves 17 slots
 * (about 150 bytes); three short lists per file kept that way cost 9 MB over 20,000 files.
 */
function exactCopy<T>(items: readonly T[]): readonly T[] {
  return items.length === 0 ? NOTHING : items.slice();
}
const NOTHING: readonly never[] = Object.freeze([]);

function join(directory: string, name: string): string {
  return directory === '' ? name : `${directory}/${name}`;
}

async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next];
      next += 1;
      if (item !== undefined) await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

const decoder = new TextDecoder('utf-8');

/**
 * The repository index: which files may be read (ignore files, safety rules), their chunks in a BM25 index, and an
 * outline (symbols, imports) per file for the repository map and import neighbours. Kept current by `update(path)`
 * from a file watcher; never rebuilt on a change.
 */
export class RepoIndex {
  private readonly rules = new IgnoreRules();
  private readonly bm25 = new Bm25Index();
  private readonly byPath = new Map<string, IndexedFileRecord>();
  private readonly chunkPaths: string[] = [];
  private readonly chunkStarts: number[] = [];
  private readonly chunkEnds: number[] = [];
  /** Files larger than this (bytes) are left out, and never edited (`editSafety.ts`). */
  readonly maxFileBytes: number;
  private excluded = emptyExclusions();
  private readonly clock: Clock;
  private sliceStartMs = 0;
  /** Every term seen, interned as an id. */
  private readonly dictionary = newTermDictionary();
  /** Reused for every chunk's term counts (reset each time): saves an allocation per chunk. */
  private readonly scratchCounts = new TermCounts();
  /** Reused for every file's line offsets and chunk bounds (when the file system did not analyse the file). */
  private readonly scratchLines = new LineStarts();
  private readonly scratchBounds: number[] = [];

  constructor(
    private readonly fs: RepoFileSystem,
    options: RepoIndexOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.clock = options.clock ?? systemClock;
  }

  /** True once the current slice of work has run `SLICE_MS`: time to `breathe`. */
  private sliceIsOver(): boolean {
    return this.clock.now() - this.sliceStartMs >= SLICE_MS;
  }

  /** Yields to the event loop (the caller checks `sliceIsOver` first: no promise per file while the slice lasts). */
  private async breathe(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.sliceStartMs = this.clock.now();
  }

  /** Indexes the whole tree. Throws the signal's reason when aborted. */
  async build(signal?: AbortSignal): Promise<BuildReport> {
    this.excluded = emptyExclusions();
    await this.addIgnoreFile('', REPOSITORY_EXCLUDE_FILE, MAX_REPOSITORY_EXCLUDE_BYTES);
    const files = await this.walk('', signal);
    const outcome = await this.indexFiles(files, signal);
    return { ...this.report(), ...outcome };
  }

  /** Indexes many files: through `lendFiles` when the file system has it (reading ahead, maybe on another thread). */
  private async indexFiles(paths: readonly string[], signal?: AbortSignal): Promise<LendOutcome> {
    if (this.fs.lendFiles !== undefined) {
      const toRead = paths.filter((path) => {
        const byName = exclusionByPath(path, 0, this.maxFileBytes);
        if (byName !== null) this.exclude(path, byName);
        return byName === null;
      });
      return this.fs.lendFiles(
        toRead,
        this.maxFileBytes,
        (path, read, analysis) => void this.indexRead(path, read, analysis),
        signal,
      );
    }
    this.sliceStartMs = this.clock.now();
    await forEachConcurrent(paths, READ_CONCURRENCY, async (path) => {
      signal?.throwIfAborted();
      if (this.sliceIsOver()) await this.breathe();
      await this.indexFile(path);
    });
    return { readBy: 'this thread', readerProblem: null };
  }

  /** Files indexed and left out so far. */
  report(): IndexReport {
    return { files: this.byPath.size, chunks: this.bm25.size(), excluded: { ...this.excluded } };
  }

  /** Lists the files under `directory` that pass the ignore rules and the name rules, reading ignore files on the way. */
  private async walk(directory: string, signal?: AbortSignal): Promise<string[]> {
    const files: string[] = [];
    let level = [directory];
    while (level.length > 0) {
      signal?.throwIfAborted();
      const nextLevel: string[] = [];
      await forEachConcurrent(level, READ_CONCURRENCY, async (current) => {
        const entries = await this.fs.readDirectory(current);
        // Ignore files first: they decide about their siblings.
        for (const name of IGNORE_FILE_NAMES) {
          if (entries.some((entry) => entry.name === name && entry.kind === 'file')) {
            await this.addIgnoreFile(current, join(current, name), MAX_IGNORE_FILE_BYTES);
          }
        }
        for (const entry of entries) {
          const path = join(current, entry.name);
          if (entry.kind === 'directory') {
            if (isSkippedDirectory(entry.name)) this.excluded.vendored += 1;
            else if (this.rules.isIgnored(path, true)) this.excluded.ignored += 1;
            else nextLevel.push(path);
          } else if (entry.kind === 'file') {
            if (this.rules.isIgnored(path, false)) this.excluded.ignored += 1;
            else files.push(path);
          }
        }
      });
      level = nextLevel;
    }
    return files;
  }

  /** Reads, checks and indexes one file (replacing what the index held for it). */
  private async indexFile(path: string): Promise<UpdateOutcome> {
    const byName = exclusionByPath(path, 0, this.maxFileBytes);
    if (byName !== null) return this.exclude(path, byName);
    return this.fs.lendFile(path, this.maxFileBytes, (read) => this.indexRead(path, read, null));
  }

  /**
   * Indexes what one read returned, with its analysis when the file system made it (on its reader thread). Works on the
   * file's UTF-8 bytes (lent: not kept past this call): chunks, terms and outline straight from the bytes, so a file is
   * never decoded whole.
   */
  private indexRead(path: string, read: RepoFileRead, analysed: FileAnalysis | null): UpdateOutcome {
    if (read.kind === 'missing') return this.removePath(path) ? 'removed' : 'unchanged';
    if (read.kind === 'too-large') return this.exclude(path, 'too-large');
    const bytes = read.bytes;
    const previous = this.byPath.get(path);
    if (previous !== undefined && previous.mtimeMs === read.mtimeMs && previous.sizeBytes === bytes.length) {
      return 'unchanged';
    }
    let analysis = analysed;
    if (analysis === null) {
      this.scratchBounds.length = 0;
      analysis = analyseFile(bytes, path, this.scratchLines, this.scratchBounds);
    }
    if (analysis.kind === 'excluded') return this.exclude(path, analysis.reason);
    if (previous !== undefined) this.dropChunks(previous);
    const bounds = analysis.chunkBounds;
    const chunkIds: number[] = [];
    for (let chunk = analysis.firstChunk; chunk < analysis.firstChunk + analysis.chunkCount; chunk += 1) {
      const at = chunk * BOUND_FIELDS;
      const counts = this.scratchCounts;
      counts.reset();
      countTerms(bytes, bounds[at] ?? 0, bounds[at + 1] ?? 0, this.dictionary, counts);
      const chunkId = this.bm25.addChunk(counts);
      this.chunkPaths[chunkId] = path;
      this.chunkStarts[chunkId] = bounds[at + 2] ?? 0;
      this.chunkEnds[chunkId] = bounds[at + 3] ?? 0;
      chunkIds.push(chunkId);
    }
    this.byPath.set(
      path,
      new IndexedFileRecord(
        path,
        bytes.length,
        read.mtimeMs,
        analysis.lineCount,
        exactCopy(chunkIds),
        analysis.symbolRecords,
        analysis.importRecords,
      ),
    );
    return previous === undefined ? 'added' : 'changed';
  }

  private exclude(path: string, reason: ExclusionReason): UpdateOutcome {
    this.excluded[reason] += 1;
    this.removePath(path);
    return 'excluded';
  }

  private dropChunks(file: IndexedFile): void {
    for (const chunkId of file.chunkIds) this.bm25.removeChunk(chunkId);
  }

  /** Removes a file, or every file under a directory; true when something was removed. */
  private removePath(path: string): boolean {
    const file = this.byPath.get(path);
    if (file !== undefined) {
      this.dropChunks(file);
      this.byPath.delete(path);
      return true;
    }
    const prefix = `${path}/`;
    let removed = false;
    for (const [candidate, entry] of this.byPath) {
      if (!candidate.startsWith(prefix)) continue;
      this.dropChunks(entry);
      this.byPath.delete(candidate);
      removed = true;
    }
    return removed;
  }

  private isExcludedByLocation(path: string, isDirectory: boolean): boolean {
    const segments = path.split('/');
    const directories = isDirectory ? segments : segments.slice(0, -1);
    if (directories.some((segment) => isSkippedDirectory(segment))) return true;
    return this.rules.isIgnoredWithAncestors(path, isDirectory);
  }

  /**
   * Brings one path up to date after a watcher event (created, changed or deleted: the file system says which).
   * A changed ignore file re-reads its rules and rescans its directory; a new directory is walked.
   */
  async update(path: string): Promise<UpdateOutcome> {
    const name = baseName(path);
    if (path === REPOSITORY_EXCLUDE_FILE || IGNORE_FILE_NAMES.some((ignoreName) => ignoreName === name)) {
      const directory = path === REPOSITORY_EXCLUDE_FILE ? '' : parentOf(path);
      // The whole scope is read again: at the root it also holds info/exclude, which must not be lost with it.
      this.rules.clear(directory);
      if (directory === '') await this.addIgnoreFile('', REPOSITORY_EXCLUDE_FILE, MAX_REPOSITORY_EXCLUDE_BYTES);
      for (const ignoreName of IGNORE_FILE_NAMES)
        await this.addIgnoreFile(directory, join(directory, ignoreName), MAX_IGNORE_FILE_BYTES);
      await this.rescan(directory);
      return 'rescanned';
    }
    const kind = await this.fs.kindOf(path);
    if (kind === 'missing') return this.removePath(path) ? 'removed' : 'unchanged';
    if (this.isExcludedByLocation(path, kind === 'directory')) {
      this.excluded.ignored += 1;
      return this.removePath(path) ? 'removed' : 'excluded';
    }
    if (kind === 'directory') {
      await this.rescan(path);
      return 'rescanned';
    }
    return this.indexFile(path);
  }

  /**
   * Adds an ignore file's patterns to `directory`'s scope, in the order of the calls (git's precedence at the root:
   * info/exclude, then `.gitignore`, then the own ignore file). A missing or unreadable file adds nothing.
   */
  private async addIgnoreFile(directory: string, path: string, maxBytes: number): Promise<void> {
    const read = await this.fs.readFile(path, maxBytes);
    if (read.kind === 'ok') this.rules.add(directory, compileIgnoreFile(decoder.decode(read.bytes)));
  }

  /** Re-walks a directory: indexes what is new or changed, drops what is gone or now ignored. */
  private async rescan(directory: string): Promise<void> {
    const seen = new Set(
      directory === '' || !this.isExcludedByLocation(directory, true) ? await this.walk(directory) : [],
    );
    const prefix = directory === '' ? '' : `${directory}/`;
    for (const path of [...this.byPath.keys()]) if (path.startsWith(prefix) && !seen.has(path)) this.removePath(path);
    await this.indexFiles([...seen]);
  }

  /** The best chunks for a free-text query, best first. */
  search(query: string, limit: number): ChunkHit[] {
    const termIds = queryTerms(query).flatMap((term) => {
      const id = this.dictionary.lookup(term);
      return id === undefined ? [] : [id];
    });
    return this.bm25.search(termIds, limit).flatMap((hit) => {
      const location = this.chunk(hit.chunkId);
      return location === null ? [] : [{ ...location, chunkId: hit.chunkId, score: hit.score }];
    });
  }

  /** Where a chunk lives, or null for an unknown id. */
  chunk(chunkId: number): ChunkLocation | null {
    const path = this.chunkPaths[chunkId];
    const startLine = this.chunkStarts[chunkId];
    const endLine = this.chunkEnds[chunkId];
    if (path === undefined || startLine === undefined || endLine === undefined) return null;
    return { path, startLine, endLine };
  }

  /** The indexed file at `path`, if any. */
  file(path: string): IndexedFile | undefined {
    return this.byPath.get(path);
  }

  /** Every indexed file, in no particular order. */
  files(): IterableIterator<IndexedFile> {
    return this.byPath.values();
  }

  /** Distinct terms and postings, for the benchmark's memory figures. */
  sizes(): { readonly terms: number; readonly postings: number } {
    return { terms: this.dictionary.size(), postings: this.bm25.postingCount() };
  }

  /** Indexed files. */
  fileCount(): number {
    return this.byPath.size;
  }

  /** True when `path` may be sent in a prompt: indexed now (so it passed the ignore and safety rules). */
  isReadable(path: string): boolean {
    return this.byPath.has(path);
  }

  /** True when the ignore files (`.gitignore`, the own ignore file, `.git/info/exclude`) keep the file `path` out. */
  isIgnored(path: string): boolean {
    return this.rules.isIgnoredWithAncestors(path, false);
  }

  /** Files `path` imports and files that import it (resolved within the index). */
  neighbours(path: string): string[] {
    const has = (candidate: string): boolean => this.byPath.has(candidate);
    const result = new Set<string>();
    const file = this.byPath.get(path);
    for (const specifier of file?.imports ?? []) {
      const resolved = resolveImport(path, specifier, has);
      if (resolved !== null) result.add(resolved);
    }
    const mayName = mayNameFile(path);
    const isPath = (candidate: string): boolean => candidate === path;
    for (const other of this.byPath.values()) {
      if (other.path === path || other.importRecords === '') continue;
      // Most files cannot name `path` at all: only theirs are unpacked. (The joined records name it only if one of them
      // does: the test on the whole string is the test on each, plus a record that only climbs, like `..`, in the middle.)
      const records = other.importRecords;
      if (!mayName(records) && !records.includes(`.${RECORD_SEPARATOR}`) && !records.includes(`/${RECORD_SEPARATOR}`))
        continue;
      for (const specifier of other.imports) {
        // Resolving every import of the repository costs a few arrays and strings each: only those that can name
        // `path` are resolved (the whole scan went from about 70 MB of garbage to almost none on 20,000 files).
        if (!mayName(specifier)) continue;
        if (resolveImport(other.path, specifier, isPath) !== null) {
          result.add(other.path);
          break;
        }
      }
    }
    return [...result];
  }
}
