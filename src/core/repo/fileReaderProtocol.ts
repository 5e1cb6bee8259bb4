// The messages between the repository index and its file-reading worker thread (dist/repoFileReader.js). The worker
// reads and analyses files (fileAnalysis.ts) in the order it is given them, many per message: the contents of a batch
// in one transferred buffer, per file `ENTRY_FIELDS` numbers in a second one, the chunk bounds in a third, and two
// outline strings per file. One message per few hundred kilobytes; the main thread only counts terms.
import { isRecord } from '../json';
import { EXCLUSION_REASONS } from './fileSafety';
import type { ExclusionReason } from './fileSafety';

/** Main thread → worker: read these files (relative to the root the worker was started with), in this order. */
export interface ReadFilesRequest {
  readonly type: 'read';
  readonly paths: readonly string[];
  readonly maxBytes: number;
  /** Bytes of content per batch (a larger file gets a batch of its own). */
  readonly batchBytes: number;
  /** Batches the worker may send before it waits for a `credit` (bounds the memory read ahead). */
  readonly credit: number;
}

/**
 * Main thread → worker: one more batch may be sent (one was consumed). The consumed batch's buffer comes back with it
 * to be filled again: the few buffers in flight are all the memory reading ever takes, and no garbage.
 */
export interface CreditMessage {
  readonly type: 'credit';
  readonly spare: ArrayBuffer | null;
}

export type ReaderRequest = ReadFilesRequest | CreditMessage;

/** Worker → main thread: the next files in order. `entries` holds `ENTRY_FIELDS` numbers per file. */
export interface FileBatch {
  readonly type: 'batch';
  readonly contents: ArrayBuffer;
  readonly entries: Float64Array;
  /** `BOUND_FIELDS` numbers per chunk of the batch's indexable files, in order. */
  readonly chunks: Int32Array;
  /** Per indexable file, in order: its symbol records, then its import records. */
  readonly outlines: readonly string[];
}

/** Worker → main thread: every file was sent. */
export interface ReadDone {
  readonly type: 'done';
}

/** Worker → main thread: reading failed for a reason other than a missing file (the build fails with this message). */
export interface ReadFailed {
  readonly type: 'failed';
  readonly message: string;
}

export type ReaderReply = FileBatch | ReadDone | ReadFailed;

/**
 * Numbers per file in `FileBatch.entries`: kind, offset, length (the size for `too-large`), mtime in ms, then for an
 * indexable file its line count, first chunk and chunk count in the batch, and for an excluded one its reason's code.
 */
export const ENTRY_FIELDS = 7;

/** `FileBatch.entries` kinds. */
export const ENTRY_INDEXABLE = 0;
export const ENTRY_EXCLUDED = 1;
export const ENTRY_TOO_LARGE = 2;
export const ENTRY_MISSING = 3;

/** Exclusion reasons by code (the position in `EXCLUSION_REASONS`). */
export const EXCLUSION_CODES: readonly ExclusionReason[] = EXCLUSION_REASONS;

/** Checks a message received by the worker. */
export function isReaderRequest(value: unknown): value is ReaderRequest {
  if (!isRecord(value)) return false;
  if (value.type === 'credit') return value.spare === null || value.spare instanceof ArrayBuffer;
  return (
    value.type === 'read' &&
    Array.isArray(value.paths) &&
    value.paths.every((path) => typeof path === 'string') &&
    typeof value.maxBytes === 'number' &&
    typeof value.batchBytes === 'number' &&
    typeof value.credit === 'number'
  );
}

/** Checks a message received from the worker. */
export function isReaderReply(value: unknown): value is ReaderReply {
  if (!isRecord(value)) return false;
  if (value.type === 'done') return true;
  if (value.type === 'failed') return typeof value.message === 'string';
  return (
    value.type === 'batch' &&
    value.contents instanceof ArrayBuffer &&
    value.entries instanceof Float64Array &&
    value.chunks instanceof Int32Array &&
    Array.isArray(value.outlines) &&
    value.outlines.every((text) => typeof text === 'string')
  );
}
