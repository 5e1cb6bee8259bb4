import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { stringAt } from '../json';
import type { FileAnalysis } from './fileAnalysis';
import {
  ENTRY_EXCLUDED,
  ENTRY_FIELDS,
  ENTRY_INDEXABLE,
  ENTRY_TOO_LARGE,
  EXCLUSION_CODES,
  isReaderReply,
} from './fileReaderProtocol';
import type { FileBatch, ReaderRequest } from './fileReaderProtocol';
import type { LendOutcome, RepoDirectoryEntry, RepoFileRead, RepoFileSystem } from './repoFileSystem';

function hasCode(value: unknown, code: string): boolean {
  return stringAt(value, 'code') === code;
}

function isMissing(error: unknown): boolean {
  return hasCode(error, 'ENOENT') || hasCode(error, 'ENOTDIR') || hasCode(error, 'EACCES') || hasCode(error, 'EPERM');
}

/** The error an open with O_NOFOLLOW gives for a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD). */
function isRefusedLink(error: unknown): boolean {
  return hasCode(error, 'ELOOP') || hasCode(error, 'EMLINK');
}

/** O_NOFOLLOW where the platform has it (not on Windows, where node leaves it undefined), else null. */
export const NO_FOLLOW_FLAG: number | null = typeof constants.O_NOFOLLOW === 'number' ? constants.O_NOFOLLOW : null;

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

/** The folder of a POSIX relative path (`''` for the root). */
function folderOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash < 0 ? '' : path.slice(0, slash);
}

/**
 * Opens a file for reading unless the path ends in a symbolic link (null then). With O_NOFOLLOW the kernel refuses the
 * link in the same call, so a file swapped for a link after any earlier check is still not followed. Without it
 * (`noFollowFlag` null: Windows) the path is lstat-ed first and the file opened must be that very file (same device and
 * inode); a swap in between is closed again and counts as a link.
 */
export function openWithoutFollowing(
  absolutePath: string,
  noFollowFlag: number | null = NO_FOLLOW_FLAG,
): number | null {
  if (noFollowFlag !== null) {
    try {
      return openSync(absolutePath, constants.O_RDONLY | noFollowFlag);
    } catch (error) {
      if (isRefusedLink(error)) return null;
      throw error;
    }
  }
  const seen = lstatSync(absolutePath);
  if (seen.isSymbolicLink()) return null;
  const descriptor = openSync(absolutePath, 'r');
  const opened = fstatSync(descriptor);
  if (opened.ino !== seen.ino || opened.dev !== seen.dev) {
    closeSync(descriptor);
    return null;
  }
  return descriptor;
}

/**
 * Keeps reads inside one workspace folder: a folder under it may be read only when it is reached without a symbolic link
 * (or a junction, or another name for the same folder) on the way, that is when its real path is the root's real path
 * joined with its relative path. A link committed to a repository (`notes -> ~/.kube`) is then never read through, on
 * any path: the first walk, a watcher update, the packer, the reader thread.
 */
export class RootConfinement {
  private realRoot: string | null = null;

  constructor(readonly rootPath: string) {}

  /** The absolute path of `path` (POSIX, relative to the root; `''` is the root). */
  absolute(path: string): string {
    return resolveUnder(this.rootPath, path);
  }

  /**
   * True when the folder `relativeFolder` exists and is reached without a link. `remembered` keeps answers for the
   * length of one batch of reads (a few seconds), so a cold index checks each folder once, not once per file.
   */
  folderIsReal(relativeFolder: string, remembered?: Map<string, boolean>): boolean {
    if (relativeFolder === '') return true;
    const known = remembered?.get(relativeFolder);
    if (known !== undefined) return known;
    let real: boolean;
    try {
      this.realRoot ??= realpathSync.native(this.rootPath);
      real = realpathSync.native(this.absolute(relativeFolder)) === join(this.realRoot, relativeFolder);
    } catch (error) {
      if (!isMissing(error) && !isRefusedLink(error)) throw error;
      real = false;
    }
    remembered?.set(relativeFolder, real);
    return real;
  }
}

/**
 * Reads the file at `path` (relative to the root) with open + fstat + read, so the size check and the read see the same
 * file. A symbolic link, or a file reached through one, reads as `missing`: its target is never opened. `bufferFor(size)`
 * gives the place to read into (at least `size` bytes); the bytes returned are a view of it. `remembered` is passed to
 * `RootConfinement.folderIsReal`.
 */
export function readFileWithin(
  root: RootConfinement,
  path: string,
  maxBytes: number,
  bufferFor: (size: number) => Uint8Array,
  remembered?: Map<string, boolean>,
): RepoFileRead {
  let descriptor: number | null = null;
  try {
    if (!root.folderIsReal(folderOf(path), remembered)) return { kind: 'missing' };
    descriptor = openWithoutFollowing(root.absolute(path));
    if (descriptor === null) return { kind: 'missing' };
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
 * A `RepoFileSystem` over node:fs rooted at `rootPath` (an absolute local folder). Never follows symbolic links: a
 * link, or anything reached through one, lists as `other` and reads as `missing` (`RootConfinement`, O_NOFOLLOW).
 * It uses synchronous calls on purpose: for 20,000 small files the promise API spent 4 thread-pool round trips per file
 * (about 10 s on a loaded 2-core machine) where the synchronous calls take a few microseconds each. The index yields to
 * the event loop between time slices, so the host never stalls for long; a cold index reads on a worker thread
 * (`options.readerScript`), one message per batch of files.
 */
export function nodeRepoFileSystem(rootPath: string, options: NodeRepoFileSystemOptions = {}): RepoFileSystem {
  const root = new RootConfinement(rootPath);
  /** The buffer `lendFile` reuses (grown to the largest file lent, up to `MAX_SCRATCH_BYTES`), and whether it is lent. */
  let scratch = new Uint8Array(64 * 1024);
  let lent = false;
  const scratchOf = (size: number): Uint8Array => {
    if (size > MAX_SCRATCH_BYTES) return new Uint8Array(size);
    if (size > scratch.length)
      scratch = new Uint8Array(Math.min(MAX_SCRATCH_BYTES, Math.max(size, scratch.length * 2)));
    return scratch;
  };
  const readWith = (
    path: string,
    maxBytes: number,
    bufferFor: (size: number) => Uint8Array,
    remembered?: Map<string, boolean>,
  ): RepoFileRead => readFileWithin(root, path, maxBytes, bufferFor, remembered);

  /** Reads `paths[from..]` on this thread, lending each in turn, yielding to the event loop every `READ_SLICE_MS`. */
  const lendInThread = async (
    paths: readonly string[],
    from: number,
    maxBytes: number,
    use: (path: string, read: RepoFileRead, analysis: FileAnalysis | null) => void,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    let sliceStart = performance.now();
    const checkedFolders = new Map<string, boolean>();
    for (let at = from; at < paths.length; at += 1) {
      const path = paths[at];
      if (path === undefined) continue;
      if (performance.now() - sliceStart >= READ_SLICE_MS) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        sliceStart = performance.now();
      }
      use(path, readWith(path, maxBytes, scratchOf, checkedFolders), null);
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
      const worker = new Worker(script, {
        workerData: { rootPath },
        resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 },
      });
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
        const settle = (): void =>
          error !== null ? reject(error) : resolve({ readBy: 'reader thread', readerProblem: null });
        stop()?.then(settle, settle);
      };
      const fallBack = (problem: string): void => {
        if (stop() === null) return;
        lendInThread(paths, next, maxBytes, use, signal).then(
          () => resolve({ readBy: 'this thread', readerProblem: problem }),
          reject,
        );
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
      const request: ReaderRequest = {
        type: 'read',
        paths,
        maxBytes,
        batchBytes: READ_AHEAD_BATCH_BYTES,
        credit: READ_AHEAD_BATCHES,
      };
      worker.postMessage(request);
    });

  return {
    async readDirectory(path) {
      try {
        if (!root.folderIsReal(path)) return [];
        const entries = readdirSync(root.absolute(path), { withFileTypes: true });
        return entries.map((entry): RepoDirectoryEntry => ({
          name: entry.name,
          kind: entry.isFile() ? 'file' : entry.isDirectory() ? 'directory' : 'other',
        }));
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
        // lstat: a link is neither a file nor a folder here (it reads as missing), whatever it points at.
        if (!root.folderIsReal(folderOf(path))) return 'missing';
        const info = lstatSync(root.absolute(path));
        return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'missing';
      } catch (error) {
        if (isMissing(error)) return 'missing';
        throw error;
      }
    },
  };
}
