import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { FileAnalysis } from './fileAnalysis';
import { ENTRY_EXCLUDED, ENTRY_FIELDS, ENTRY_INDEXABLE, ENTRY_TOO_LARGE, EXCLUSION_CODES, isReaderReply } from './fileReaderProtocol';
import type { FileBatch, ReaderRequest } from './fileReaderProtocol';
import type { LendOutcome, RepoDirectoryEntry, RepoFileRead, RepoFileSystem } from './repoFileSystem';

function hasCode(value: unknown, code: string): boolean {
  return typeof value === 'object' && value !== null && 'code' in value && value.code === code;
}

function isMissing(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR') || hasCode(error, 'EACCES') || hasCode(error, 'EPERM');
}

/** Largest buffer `lendFile` keeps for reuse, in bytes (a larger file gets a buffer of its own). */
const MAX_SCRATCH_BYTES = 1024 * 1024;

/** Bytes of file contents per message from the reader thread: a few milliseconds of parsing each. */
const READ_AHEAD_BATCH_BYTES = 256 * 1024;

/** Batches the reader thread may read ahead of the parser (memory held: this many batches). */
const READ_AHEAD_BATCHES = 8;

/** Below this many files a thread costs more to start (about 20 ms) than it saves. */
const READ_AHEAD_MIN_FILES = 500;

/** Longest stretch of in-thread reading between two yields to the event loop, in ms. */
const READ_SLICE_MS = 12;

/** Options of `nodeRepoFileSystem`. */
export interface NodeRepoFileSystemOptions {
  /**
   * The built reader thread (`dist/repoFileReader.js`): when given, `lendFiles` reads many files on a worker thread
   * while the caller parses. Without it (or when the thread cannot start) files are read on the calling thread.
   */
  readonly readerScript?: string;
  /** Fewest files worth starting the thread for (default 500: a thread costs about 20 ms to start). */
  readonly readAheadMinFiles?: number;
}

/** The absolute path of `path` (POSIX, relative to `rootPath`; `''` is the root). */
export function resolveUnder(rootPath: string, path: string): string {
  return path === '' ? rootPath : join(rootPath, path);
}

/**
 * Reads one file with open + fstat + read, so the size check and the read see the same file. `bufferFor(size)` gives
 * the place to read into (at least `size` bytes); the bytes returned are a view of it.
 */
export function readFileWithin(absolutePath: string, maxBytes: number, bufferFor: (size: number) => Uint8Array): RepoFileRead {
  let descriptor: number | null = null;
  try {
    descriptor = openSync(absolutePath, 'r');
    const info = fstatSync(descriptor);
    if (!info.isFile()) return { kind: 'missing' };
    if (info.size > maxBytes) return { kind: 'too-large', sizeBytes: info.size };
    const buffer = bufferFor(info.size);
    let offset = 0;
    while (offset < info.size) {
      const bytesRead = readSync(descriptor, buffer, offset, info.size - offset, offset);
      if (bytesRead === 0) break;
      offset += bytesRead;
    }
    return { kind: 'ok', bytes: offset === buffer.length ? buffer : buffer.subarray(0, offset), mtimeMs: info.mtimeMs };
  } catch (error) {
    if (isMissing(error) || hasCode(error, 'EISDIR')) return { kind: 'missing' };
    throw error;
  } finally {
    if (descriptor !== null) closeSync(descriptor);
  }
}

/** One file of a reader batch: its read (the bytes a view of the batch) and its analysis. */
interface BatchFile {
  readonly read: RepoFileRead;
  readonly analysis: FileAnalysis | null;
}

/** Turns entry `file` of a reader batch back into a read and an analysis; `outlineAt` is the next unused outline. */
function batchFile(batch: FileBatch, file: number, outlineAt: number): BatchFile {
  const at = file * ENTRY_FIELDS;
  const entries = batch.entries;
  const kind = entries[at];
  const offset = entries[at + 1] ?? 0;
  const length = entries[at + 2] ?? 0;
  const mtimeMs = entries[at + 3] ?? 0;
  if (kind === ENTRY_TOO_LARGE) return { read: { kind: 'too-large', sizeBytes: length }, analysis: null };
  if (kind !== ENTRY_INDEXABLE && kind !== ENTRY_EXCLUDED) return { read: { kind: 'missing' }, analysis: null };
  const read: RepoFileRead = { kind: 'ok', bytes: new Uint8Array(batch.contents, offset, length), mtimeMs };
  if (kind === ENTRY_EXCLUDED) {
    const reason = EXCLUSION_CODES[entries[at + 6] ?? -1];
    // An unknown code cannot come from this build's reader: analyse the file here rather than guess.
    return { read, analysis: reason === undefined ? null : { kind: 'excluded', reason } };
  }
  return {
    read,
    analysis: {
      kind: 'indexable',
      lineCount: entries[at + 4] ?? 0,
      chunkBounds: batch.chunks,
      firstChunk: entries[at + 5] ?? 0,
      chunkCount: entries[at + 6] ?? 0,
      symbolRecords: batch.outlines[outlineAt] ?? '',
      importRecords: batch.outlines[outlineAt + 1] ?? '',
    },
  };
}

/**
 * A `RepoFileSystem` over node:fs rooted at `rootPath` (an absolute local folder). Never follows symbolic links.
 * It uses synchronous calls on purpose: for 20,000 small files the promise API spent 4 thread-pool round trips per file
 * (about 10 s on a loaded 2-core machine) where the synchronous calls take a few microseconds each. The index yields to
 * the event loop between time slices, so the host never stalls for long; a cold index reads on a worker thread
 * (`options.readerScript`), one message per batch of files.
 */
export function nodeRepoFileSystem(rootPath: string, options: NodeRepoFileSystemOptions = {}): RepoFileSystem {
  const absolute = (path: string): string => resolveUnder(rootPath, path);
  /** The buffer `lendFile` reuses (grown to the largest file lent, up to `MAX_SCRATCH_BYTES`), and whether it is lent. */
  let scratch = new Uint8Array(64 * 1024);
  let lent = false;
  const scratchOf = (size: number): Uint8Array => {
    if (size > MAX_SCRATCH_BYTES) return new Uint8Array(size);
    if (size > scratch.length) scratch = new Uint8Array(Math.min(MAX_SCRATCH_BYTES, Math.max(size, scratch.length * 2)));
    return scratch;
  };
  const readWith = (path: string, maxBytes: number, bufferFor: (size: number) => Uint8Array): RepoFileRead =>
    readFileWithin(absolute(path), maxBytes, bufferFor);

  /** Reads `paths[from..]` on this thread, lending each in turn, yielding to the event loop every `READ_SLICE_MS`. */
  const lendInThread = async (
    paths: readonly string[],
    from: number,
    maxBytes: number,
    use: (path: string, read: RepoFileRead, analysis: FileAnalysis | null) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    let sliceStart = performance.now();
    for (let at = from; at < paths.length; at += 1) {
      const path = paths[at];
      if (path === undefined) continue;
      if (performance.now() - sliceStart >= READ_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        sliceStart = performance.now();
      }
      use(path, readWith(path, maxBytes, scratchOf), null);
    }
  };

  /**
   * Reads `paths` on a worker thread and lends them in order as batches arrive. If the thread fails (it could not
   * start, or it crashed) the files not lent yet are read on this thread: a build never loses files to the thread.
   */
  const lendFromThread = (
    script: string,
    paths: readonly string[],
    maxBytes: number,
    use: (path: string, read: RepoFileRead, analysis: FileAnalysis | null) => void,
    signal: AbortSignal | undefined,
  ): Promise<LendOutcome> =>
    new Promise<LendOutcome>((resolve, reject) => {
      let next = 0;
      let settled = false;
      // The thread only reads: a small heap keeps its memory (an isolate of its own) to a few MB.
      const worker = new Worker(script, { workerData: { rootPath }, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } });
      /** Stops listening and ends the thread; false when that was done already. */
      const stop = (): Promise<number> | null => {
        if (settled) return null;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        worker.removeAllListeners();
        return worker.terminate();
      };
      const finish = (error: unknown): void => {
        // Settle once the thread is gone: its memory (an isolate of its own) is then given back.
        const settle = (): void => (error !== null ? reject(error) : resolve({ readBy: 'reader thread', readerProblem: null }));
        stop()?.then(settle, settle);
      };
      const fallBack = (problem: string): void => {
        if (stop() === null) return;
        lendInThread(paths, next, maxBytes, use, signal).then(() => resolve({ readBy: 'this thread', readerProblem: problem }), reject);
      };
      const onAbort = (): void => finish(signal?.reason ?? new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('error', (error: unknown) => fallBack(error instanceof Error ? error.message : String(error)));
      worker.on('exit', (code: number) => fallBack(`the reader thread exited (code ${code})`));
      worker.on('message', (message: unknown) => {
        if (settled || !isReaderReply(message)) return;
        if (message.type === 'done') return finish(null);
        if (message.type === 'failed') return fallBack(message.message);
        try {
          let outlineAt = 0;
          for (let file = 0; file < message.entries.length / ENTRY_FIELDS; file += 1) {
            const path = paths[next];
            next += 1;
            const { read, analysis } = batchFile(message, file, outlineAt);
            if (analysis?.kind === 'indexable') outlineAt += 2;
            if (path !== undefined) use(path, read, analysis);
          }
        } catch (error) {
          return finish(error);
        }
        // The batch is parsed: its buffer goes back to be filled again.
        const credit: ReaderRequest = { type: 'credit', spare: message.contents };
        worker.postMessage(credit, [message.contents]);
      });
      const request: ReaderRequest = { type: 'read', paths, maxBytes, batchBytes: READ_AHEAD_BATCH_BYTES, credit: READ_AHEAD_BATCHES };
      worker.postMessage(request);
    });

  return {
    async readDirectory(path) {
      try {
        const entries = readdirSync(absolute(path), { withFileTypes: true });
        return entries.map(
          (entry): RepoDirectoryEntry => ({
            name: entry.name,
            kind: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : 'other',
          }),
        );
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
    },
    async readFile(path, maxBytes): Promise<RepoFileRead> {
      return readWith(path, maxBytes, (size) => new Uint8Array(size));
    },
    async lendFiles(paths, maxBytes, use, signal) {
      signal?.throwIfAborted();
      if (options.readerScript === undefined || paths.length < (options.readAheadMinFiles ?? READ_AHEAD_MIN_FILES)) {
        await lendInThread(paths, 0, maxBytes, use, signal);
        return { readBy: 'this thread', readerProblem: null };
      }
      return lendFromThread(options.readerScript, paths, maxBytes, use, signal);
    },
    async lendFile(path, maxBytes, use) {
      // A nested call (from inside `use`) must not overwrite the bytes lent to the outer one: it gets its own buffer.
      if (lent) return use(readWith(path, maxBytes, (size) => new Uint8Array(size)));
      lent = true;
      try {
        return use(readWith(path, maxBytes, scratchOf));
      } finally {
        lent = false;
      }
    },
    async kindOf(path) {
      try {
        const info = statSync(absolute(path));
        return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'missing';
      } catch (error) {
        if (isMissing(error)) return 'missing';
        throw error;
      }
    },
  };
}
