// The speed history on disk: JSON lines, one finished request per line after a header line, shared by every VS Code
// window. Appends are batched (one write per 2 s at most) so that disk I/O never sits on the streaming path, and each
// batch is one O_APPEND write of whole lines, so windows never overwrite each other. The file is compacted back to the
// last 10,000 requests once it grows about 20% past that (about 4 MB at ~400 bytes a line), under a lock file. Loading
// reads only the file's end, in chunks. A file that cannot be read or is not a history file is set aside under a new
// name with one warning, and the history starts fresh: it never stops the extension.
import { BACKEND_ERROR_REASONS } from '../errors';
import type { BackendErrorReason } from '../errors';
import { isRecord, stringAt, tryParseJson } from '../json';
import type { RequestOutcome, RequestRecord, RequestStats, RequestTask, TokensSource } from '../requestStats';
import { parseRouteReason } from '../routeReason';
import type { Scheduler, ScheduledTask } from '../scheduler';
import { acquireFileLock } from './fileLock';
import type { HeldFileLock } from './fileLock';
import type { ReadableTextFile, TextFiles } from './textFiles';

/** The first line of a history file; a file without it is not ours (or is damaged). */
export const HISTORY_HEADER = { format: 'latency-copilot.speed-history', version: 1 } as const;

/** How long appends wait to be written together, in ms. */
export const HISTORY_FLUSH_DELAY_MS = 2_000;

/** Options for `SpeedHistory`. */
export interface SpeedHistoryOptions {
  readonly files: TextFiles;
  /** Absolute path of the history file, e.g. `<globalStorage>/speed-history.jsonl`. */
  readonly filePath: string;
  readonly scheduler: Scheduler;
  /** Wall-clock time in ms since the epoch, only for naming a set-aside file. */
  readonly wallClockMs: () => number;
  /** The most records kept (default 10,000). */
  readonly capacity?: number;
  /** Told once per problem (a set-aside file, damaged lines, a failed write); never throws into the caller. */
  readonly onWarning?: (message: string) => void;
  /** The most of the file read at load, from its end, in bytes (default `HISTORY_MAX_READ_BYTES`). */
  readonly maxReadBytes?: number;
  /** Waits while another window holds the lock file (default: a timer). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** What loading found. */
export interface HistoryLoadResult {
  /** The kept records, oldest first. */
  readonly records: readonly RequestRecord[];
  /** One sentence for the person when the file had to be set aside or lines were dropped; null when all was well. */
  readonly warning: string | null;
}

const TASKS: readonly RequestTask[] = ['inline', 'next-edit', 'refactor', 'repo', 'probe'];
const OUTCOMES: readonly RequestOutcome[] = ['ok', 'cancelled', 'error'];
const SOURCES: readonly TokensSource[] = ['server', 'estimate'];

function isOneOf<T>(options: readonly T[], value: unknown): value is T {
  return options.some((option) => option === value);
}

function isNullableNumber(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function parseStats(value: unknown): RequestStats | null {
  if (!isRecord(value)) return null;
  const { ttftMs, decodeTokensPerSec, serverDecodeTokensPerSec, outputTokens, tokensSource } = value;
  const { promptTokens, cachedPromptTokens, prefillTokensPerSec, totalMs } = value;
  if (
    !isNullableNumber(ttftMs) ||
    !isNullableNumber(decodeTokensPerSec) ||
    !isNullableNumber(serverDecodeTokensPerSec) ||
    !isCount(outputTokens) ||
    !isOneOf(SOURCES, tokensSource) ||
    !isNullableNumber(promptTokens) ||
    !isNullableNumber(cachedPromptTokens) ||
    !isNullableNumber(prefillTokensPerSec) ||
    !isCount(totalMs)
  ) {
    return null;
  }
  return {
    ttftMs,
    decodeTokensPerSec,
    serverDecodeTokensPerSec,
    outputTokens,
    tokensSource,
    promptTokens,
    cachedPromptTokens,
    prefillTokensPerSec,
    totalMs,
    // Only Anthropic records have it; lines without it, or with a broken one, load without it.
    ...(isCount(value['cacheWritePromptTokens']) ? { cacheWritePromptTokens: value['cacheWritePromptTokens'] } : {}),
    ...predictionStats(value),
  };
}

/**
 * The predicted-output figures of a stored record. Lines written before they existed have none: they load as a request
 * without a prediction, as they were. A present but broken value is dropped the same way rather than losing the line.
 */
function predictionStats(
  value: Readonly<Record<string, unknown>>,
): Pick<RequestStats, 'acceptedPredictionTokens' | 'rejectedPredictionTokens' | 'effectiveTokensPerSec'> {
  const accepted = value['acceptedPredictionTokens'];
  const rejected = value['rejectedPredictionTokens'];
  const effective = value['effectiveTokensPerSec'];
  return {
    acceptedPredictionTokens: isCount(accepted) ? accepted : null,
    rejectedPredictionTokens: isCount(rejected) ? rejected : null,
    effectiveTokensPerSec: isCount(effective) ? effective : null,
  };
}

/** Checks one stored (or imported) record field by field; returns a clean copy or null. */
export function parseRequestRecord(value: unknown): RequestRecord | null {
  if (!isRecord(value)) return null;
  const { startedAtEpochMs, task, endpointId, endpointLabel, outcome, errorReason, fromCache } = value;
  const routeReason = parseRouteReason(value['routeReason']);
  if (
    !isCount(startedAtEpochMs) ||
    !isOneOf(TASKS, task) ||
    typeof endpointId !== 'string' ||
    typeof endpointLabel !== 'string' ||
    routeReason === null ||
    !isOneOf(OUTCOMES, outcome) ||
    !(errorReason === null || isOneOf<BackendErrorReason>(BACKEND_ERROR_REASONS, errorReason)) ||
    typeof fromCache !== 'boolean'
  ) {
    return null;
  }
  const stats = parseStats(value['stats']);
  if (stats === null) return null;
  // The file does not keep `retryAfterMs` (see `storedRecord`): a loaded record has no wait left to honour.
  const retryAfterMs = null;
  // Lines written before the prompt estimate was kept load with none: their costs fall back to the server's counts.
  const estimate = value['promptTokensEstimate'];
  const promptTokensEstimate = isCount(estimate) ? estimate : null;
  return {
    startedAtEpochMs,
    task,
    endpointId,
    endpointLabel,
    routeReason,
    outcome,
    errorReason,
    retryAfterMs,
    fromCache,
    promptTokensEstimate,
    stats,
  };
}

/**
 * What the file (and an export) keeps of a record: all but `retryAfterMs`, a wait counted from the moment the request
 * ended, which only the live status bar uses and which has long passed by the next load.
 */
function storedRecord(record: RequestRecord): Omit<RequestRecord, 'retryAfterMs'> {
  const { retryAfterMs: _notKept, ...stored } = record;
  return stored;
}

function isHeader(value: unknown): boolean {
  return isRecord(value) && value['format'] === HISTORY_HEADER.format && value['version'] === HISTORY_HEADER.version;
}

/** What parsing a history file's text found. */
export interface ParsedHistory {
  /** False when the file is not a history file at all (no valid header). */
  readonly valid: boolean;
  readonly records: RequestRecord[];
  /** Lines that did not parse, not counting an unfinished last line (what a crash mid-append leaves). */
  readonly damagedLines: number;
}

/** Parses the text of a history file, keeping at most `capacity` newest records. */
export function parseHistoryText(text: string, capacity: number): ParsedHistory {
  const lines = text.split('\n');
  const endsCleanly = text.endsWith('\n');
  const first = lines[0] ?? '';
  if (!isHeader(tryParseJson(first))) return { valid: false, records: [], damagedLines: 0 };
  const records: RequestRecord[] = [];
  let damagedLines = 0;
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    const parsed = tryParseJson(line);
    // Two windows that found no file at the same moment both start it with a header: the second one is not damage.
    if (isHeader(parsed)) continue;
    const record = parseRequestRecord(parsed);
    if (record !== null) records.push(record);
    else if (!(index === lines.length - 1 && !endsCleanly)) damagedLines++;
  }
  return {
    valid: true,
    records: records.length > capacity ? records.slice(records.length - capacity) : records,
    damagedLines,
  };
}

/** How far into a file its header line is looked for, in bytes (the header is about 60). */
const HEADER_PROBE_BYTES = 4096;

/** A line longer than this is damage, not a record (records are about 400 bytes), in bytes. */
const MAX_LINE_BYTES = 64 * 1024;

/** The most of a history file read at load or compaction, from its end, in bytes (10,000 records are about 4 MB). */
export const HISTORY_MAX_READ_BYTES = 16 * 1024 * 1024;

/** The size of one read from a history file, in bytes: parsing happens between reads, never on the whole file at once. */
export const HISTORY_READ_CHUNK_BYTES = 256 * 1024;

const NEWLINE = 0x0a;

/** What reading a history file's end found. */
export interface HistoryTail extends ParsedHistory {
  /** Bytes of the lines read (records and damaged lines), to estimate a record's size. */
  readonly lineBytes: number;
}

/**
 * Reads the newest records of an open history file from its end, in chunks: at most `capacity` records and at most
 * `maxReadBytes` bytes (plus the header line), so a file of any size costs the same. Lines are split on the newline
 * byte, which never occurs inside a multi-byte UTF-8 character, so a chunk boundary cannot split a character wrongly.
 * An unfinished last line (an append in progress, or a crash mid-append) is dropped silently; a line cut by the byte
 * bound is not read at all.
 */
export async function readHistoryTail(
  file: ReadableTextFile,
  capacity: number,
  maxReadBytes: number = HISTORY_MAX_READ_BYTES,
  chunkBytes: number = HISTORY_READ_CHUNK_BYTES,
): Promise<HistoryTail> {
  const invalid: HistoryTail = { valid: false, records: [], damagedLines: 0, lineBytes: 0 };
  const decoder = new TextDecoder();
  const head = await file.read(0, Math.min(file.size, HEADER_PROBE_BYTES));
  const headerEnd = head.indexOf(NEWLINE);
  if (headerEnd === -1) {
    // Only a header without its newline (a file just being created) is a valid file without records.
    return file.size < HEADER_PROBE_BYTES && isHeader(tryParseJson(decoder.decode(head)))
      ? { ...invalid, valid: true }
      : invalid;
  }
  if (!isHeader(tryParseJson(decoder.decode(head.subarray(0, headerEnd))))) return invalid;

  const firstLineStart = headerEnd + 1;
  const floor = Math.max(firstLineStart, file.size - Math.max(0, maxReadBytes));
  const newestFirst: RequestRecord[] = [];
  let damagedLines = 0;
  let lineBytes = 0;
  let position = file.size;
  /** The bytes of a line whose start lies in an earlier chunk. */
  let carry: Uint8Array = new Uint8Array(0);
  /** True until the first newline from the end is found: what follows it is the unfinished last line. */
  let atEnd = true;
  /** True while skipping a line longer than MAX_LINE_BYTES (counted once, when its start is found). */
  let skippingLongLine = false;

  const takeLine = (bytes: Uint8Array): void => {
    if (atEnd) {
      atEnd = false;
      return;
    }
    if (skippingLongLine) {
      skippingLongLine = false;
      damagedLines++;
      return;
    }
    const text = decoder.decode(bytes);
    if (text.trim() === '') return;
    lineBytes += bytes.length + 1;
    const parsed = tryParseJson(text);
    if (isHeader(parsed)) return;
    const record = parseRequestRecord(parsed);
    if (record === null) damagedLines++;
    else newestFirst.push(record);
  };

  while (position > floor && newestFirst.length < capacity) {
    const length = Math.min(chunkBytes, position - floor);
    position -= length;
    const chunk = await file.read(position, length);
    const bytes = carry.length === 0 ? chunk : concatBytes(chunk, carry);
    let lineEnd = bytes.length;
    for (let index = bytes.length - 1; index >= 0 && newestFirst.length < capacity; index--) {
      if (bytes[index] !== NEWLINE) continue;
      takeLine(bytes.subarray(index + 1, lineEnd));
      lineEnd = index;
    }
    carry = bytes.subarray(0, lineEnd);
    if (carry.length > MAX_LINE_BYTES) {
      skippingLongLine = true;
      carry = new Uint8Array(0);
    }
  }
  // The oldest line read starts right after the header only when the read reached it; a line cut by the bound is left.
  if (position === firstLineStart && newestFirst.length < capacity && (carry.length > 0 || skippingLongLine))
    takeLine(carry);
  return { valid: true, records: newestFirst.reverse(), damagedLines, lineBytes };
}

function concatBytes(first: Uint8Array, second: Uint8Array): Uint8Array {
  const joined = new Uint8Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}

function serialise(records: readonly RequestRecord[]): string {
  return (
    [JSON.stringify(HISTORY_HEADER), ...records.map((record) => JSON.stringify(storedRecord(record)))].join('\n') + '\n'
  );
}

function describeError(error: unknown): string {
  return stringAt(error, 'code') ?? (error instanceof Error ? error.name : 'unknown error');
}

/** The header line's size, in bytes. */
const HEADER_LINE_BYTES = JSON.stringify(HISTORY_HEADER).length + 1;

/** A record's size on disk before any is measured, in bytes (what the compaction threshold assumes at first). */
const ASSUMED_LINE_BYTES = 400;

function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The history file, shared by every VS Code window of the person. `load()` once at start; `append()` for every finished
 * request (buffered); `flush()` before shutdown; `reset()` to start over.
 *
 * Several windows write the same file, so nothing here rewrites what another window wrote without holding the lock
 * file (`<file>.lock`): appends are one O_APPEND write of whole lines (a new file gets its header in the same write),
 * and compaction, reset and setting a damaged file aside take the lock, which appends take too, so no append can land
 * in a file that is being replaced. Loading reads only the file's end (`readHistoryTail`), asynchronously.
 * Within one window all file operations run one after another.
 */
export class SpeedHistory {
  private readonly files: TextFiles;
  private readonly filePath: string;
  private readonly scheduler: Scheduler;
  private readonly wallClockMs: () => number;
  private readonly capacity: number;
  private readonly maxReadBytes: number;
  private readonly onWarning: (message: string) => void;
  private readonly sleep: (ms: number) => Promise<void>;

  private buffer: RequestRecord[] = [];
  private pendingFlush: ScheduledTask | null = null;
  private queue: Promise<void> = Promise.resolve();
  /** Bytes and lines seen (read at load, written since), for the size of a record on disk. */
  private measuredBytes = 0;
  private measuredLines = 0;
  private writeFailureReported = false;

  constructor(options: SpeedHistoryOptions) {
    this.files = options.files;
    this.filePath = options.filePath;
    this.scheduler = options.scheduler;
    this.wallClockMs = options.wallClockMs;
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 10_000));
    this.maxReadBytes = Math.max(HEADER_PROBE_BYTES, options.maxReadBytes ?? HISTORY_MAX_READ_BYTES);
    this.onWarning = options.onWarning ?? (() => undefined);
    this.sleep = options.sleep ?? realSleep;
  }

  /**
   * Reads the newest records (at most `capacity`, at most `maxReadBytes` of the file). Never throws: a file that cannot
   * be read or is not a history file is set aside and the history starts empty; damaged lines are skipped and counted,
   * and the file is kept as it is (other windows append to it).
   */
  load(): Promise<HistoryLoadResult> {
    return this.enqueue(
      async () => {
        let tail: HistoryTail | null;
        try {
          tail = await this.readTail();
        } catch (error) {
          return this.setAside(`it could not be read (${describeError(error)})`);
        }
        if (tail === null) return { records: [], warning: null };
        if (!tail.valid) return this.setAside('it is not a speed history file or its header is damaged');
        this.measure(tail.lineBytes, tail.records.length + tail.damagedLines);
        if (tail.damagedLines === 0) return { records: tail.records, warning: null };
        const warning =
          `The speed history file has ${tail.damagedLines} damaged line(s) among its newest records; they were skipped, ` +
          `the ${tail.records.length} good record(s) were loaded, and the file was left as it is.`;
        this.onWarning(warning);
        return { records: tail.records, warning };
      },
      { records: [], warning: null },
    );
  }

  /** Queues a finished request for the next batched write. */
  append(record: RequestRecord): void {
    this.buffer.push(record);
    if (this.pendingFlush === null) {
      this.pendingFlush = this.scheduler.schedule(HISTORY_FLUSH_DELAY_MS, () => {
        void this.flush();
      });
    }
  }

  /** Records waiting in the buffer. */
  pendingCount(): number {
    return this.buffer.length;
  }

  /** Writes buffered records now. Resolves when they are on disk (or the write failed and was reported). */
  flush(): Promise<void> {
    this.pendingFlush?.cancel();
    this.pendingFlush = null;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return this.queue;
    return this.enqueue(async () => {
      const lines = batch.map((record) => JSON.stringify(storedRecord(record)) + '\n').join('');
      // Without the lock (another window holds it for seconds, or the folder takes no lock file) the batch is appended
      // all the same: O_APPEND keeps it whole beside other windows' appends, and losing it for sure is worse.
      const lock = await this.lock();
      try {
        const file = await this.files.openAppend(this.filePath);
        let sizeAfter: number;
        try {
          // A new file starts with its header; a line left unfinished by a crash is ended so this batch is not glued to it.
          const prefix = file.size === 0 ? JSON.stringify(HISTORY_HEADER) + '\n' : file.endsWithNewline ? '' : '\n';
          const bytes = new TextEncoder().encode(prefix + lines);
          await file.append(bytes);
          sizeAfter = file.size + bytes.length;
        } finally {
          await file.close();
        }
        this.measure(new TextEncoder().encode(lines).length, batch.length);
        if (lock !== null && sizeAfter > this.compactionThresholdBytes()) await this.compact();
      } finally {
        await lock?.release();
      }
    }, undefined);
  }

  /** Empties the history file (and drops anything buffered). */
  reset(): Promise<void> {
    this.pendingFlush?.cancel();
    this.pendingFlush = null;
    this.buffer = [];
    return this.enqueue(async () => {
      // The person asked for it: without the lock it still happens.
      const lock = await this.lock();
      try {
        await this.files.writeAtomic(this.filePath, serialise([]));
      } finally {
        await lock?.release();
      }
    }, undefined);
  }

  /** Writes what is buffered and stops the timer. */
  async dispose(): Promise<void> {
    await this.flush();
  }

  /** The file size past which it is compacted: 20% more records than the capacity, at the measured record size. */
  private compactionThresholdBytes(): number {
    const lineBytes = this.measuredLines > 0 ? this.measuredBytes / this.measuredLines : ASSUMED_LINE_BYTES;
    return HEADER_LINE_BYTES + this.capacity * 1.2 * lineBytes;
  }

  private measure(bytes: number, lines: number): void {
    this.measuredBytes += bytes;
    this.measuredLines += lines;
  }

  /** Keeps the newest records (as `load` would read them): called with the lock held, so no append is lost. */
  private async compact(): Promise<void> {
    const tail = await this.readTail();
    if (tail === null || !tail.valid) return;
    await this.files.writeAtomic(this.filePath, serialise(tail.records));
  }

  private async readTail(): Promise<HistoryTail | null> {
    const file = await this.files.openRead(this.filePath);
    if (file === null) return null;
    try {
      return await readHistoryTail(file, this.capacity, this.maxReadBytes);
    } finally {
      await file.close();
    }
  }

  private lock(): Promise<HeldFileLock | null> {
    return acquireFileLock({
      files: this.files,
      lockPath: `${this.filePath}.lock`,
      wallClockMs: this.wallClockMs,
      sleep: this.sleep,
    });
  }

  private async setAside(why: string): Promise<HistoryLoadResult> {
    const asidePath = `${this.filePath}.damaged-${Math.floor(this.wallClockMs())}`;
    let where: string;
    const lock = await this.lock();
    try {
      await this.files.rename(this.filePath, asidePath);
      where = `it was set aside as ${asidePath}`;
    } catch (error) {
      where = `it could not be set aside either (${describeError(error)})`;
    } finally {
      await lock?.release();
    }
    const warning = `The speed history file had a problem: ${why}; ${where}, and a fresh history was started.`;
    this.onWarning(warning);
    return { records: [], warning };
  }

  private enqueue<T>(operation: () => Promise<T>, onFailure: T): Promise<T> {
    const run = this.queue.then(operation).catch((error: unknown) => {
      if (!this.writeFailureReported) {
        this.writeFailureReported = true;
        this.onWarning(`The speed history could not be saved (${describeError(error)}); figures stay in memory only.`);
      }
      return onFailure;
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }
}

const CSV_COLUMNS = [
  'started_at',
  'task',
  'endpoint_id',
  'endpoint_label',
  'route_reason',
  'outcome',
  'error_reason',
  'from_cache',
  'ttft_ms',
  'decode_tokens_per_sec',
  'server_decode_tokens_per_sec',
  'output_tokens',
  'tokens_source',
  'prompt_tokens',
  'cached_prompt_tokens',
  'prefill_tokens_per_sec',
  'total_ms',
  'accepted_prediction_tokens',
  'rejected_prediction_tokens',
  'effective_tokens_per_sec',
  'prompt_tokens_estimate',
  'cache_write_prompt_tokens',
] as const;

/** Quotes a CSV field, and defuses text a spreadsheet would run as a formula (`=`, `+`, `-`, `@` at the start). */
export function csvField(value: string | number | boolean | null): string {
  if (value === null) return '';
  if (typeof value !== 'string') return String(value);
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The history as CSV, one row per request, oldest first, with a header row. */
export function historyToCsv(records: readonly RequestRecord[]): string {
  const rows = records.map((record) => {
    const stats = record.stats;
    const fields: (string | number | boolean | null)[] = [
      new Date(record.startedAtEpochMs).toISOString(),
      record.task,
      record.endpointId,
      record.endpointLabel,
      record.routeReason,
      record.outcome,
      record.errorReason,
      record.fromCache,
      stats.ttftMs,
      stats.decodeTokensPerSec,
      stats.serverDecodeTokensPerSec,
      stats.outputTokens,
      stats.tokensSource,
      stats.promptTokens,
      stats.cachedPromptTokens,
      stats.prefillTokensPerSec,
      stats.totalMs,
      stats.acceptedPredictionTokens,
      stats.rejectedPredictionTokens,
      stats.effectiveTokensPerSec,
      record.promptTokensEstimate,
      stats.cacheWritePromptTokens ?? null,
    ];
    return fields.map(csvField).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** The history as one JSON document: the header fields, when it was exported, and the records oldest first. */
export function historyToJson(records: readonly RequestRecord[], exportedAtEpochMs: number): string {
  const exportedAt = new Date(exportedAtEpochMs).toISOString();
  return JSON.stringify(
    { ...HISTORY_HEADER, exportedAt, count: records.length, records: records.map(storedRecord) },
    null,
    1,
  );
}
