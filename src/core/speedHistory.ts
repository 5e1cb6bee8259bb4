// The speed history on disk: JSON lines, one finished request per line after a header line. Appends are batched (one
// write per 2 s at most) so that disk I/O never sits on the streaming path; the file is compacted back to the last
// 10,000 requests once it grows 20% past that (about 4 MB at ~400 bytes a line). A file that cannot be read or parsed
// is set aside under a new name with one warning, and the history starts fresh: it never stops the extension.
import { BACKEND_ERROR_REASONS } from './errors';
import type { BackendErrorReason } from './errors';
import type { RequestOutcome, RequestRecord, RequestStats, RequestTask, TokensSource } from './requestStats';
import type { Scheduler, ScheduledTask } from './scheduler';
import type { TextFiles } from './textFiles';

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
  /** Told once per problem (a set-aside file, a failed write); never throws into the caller. */
  readonly onWarning?: (message: string) => void;
}

/** What loading found. */
export interface HistoryLoadResult {
  /** The kept records, oldest first. */
  readonly records: readonly RequestRecord[];
  /** One sentence for the person when the file had to be set aside or lines were dropped; null when all was well. */
  readonly warning: string | null;
}

const TASKS: readonly RequestTask[] = ['inline', 'refactor', 'repo', 'probe'];
const OUTCOMES: readonly RequestOutcome[] = ['ok', 'cancelled', 'error'];
const SOURCES: readonly TokensSource[] = ['server', 'estimate'];

function isRecordObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
  if (!isRecordObject(value)) return null;
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
  };
}

/** Checks one stored (or imported) record field by field; returns a clean copy or null. */
export function parseRequestRecord(value: unknown): RequestRecord | null {
  if (!isRecordObject(value)) return null;
  const { startedAtEpochMs, task, endpointId, endpointLabel, routeReason, outcome, errorReason, fromCache } = value;
  if (
    !isCount(startedAtEpochMs) ||
    !isOneOf(TASKS, task) ||
    typeof endpointId !== 'string' ||
    typeof endpointLabel !== 'string' ||
    typeof routeReason !== 'string' ||
    !isOneOf(OUTCOMES, outcome) ||
    !(errorReason === null || isOneOf<BackendErrorReason>(BACKEND_ERROR_REASONS, errorReason)) ||
    typeof fromCache !== 'boolean'
  ) {
    return null;
  }
  const stats = parseStats(value['stats']);
  if (stats === null) return null;
  return { startedAtEpochMs, task, endpointId, endpointLabel, routeReason, outcome, errorReason, fromCache, stats };
}

function isHeader(value: unknown): boolean {
  return isRecordObject(value) && value['format'] === HISTORY_HEADER.format && value['version'] === HISTORY_HEADER.version;
}

function tryParseJson(line: string): unknown {
  try {
    const parsed: unknown = JSON.parse(line);
    return parsed;
  } catch {
    return undefined;
  }
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
    const record = parseRequestRecord(tryParseJson(line));
    if (record !== null) records.push(record);
    else if (!(index === lines.length - 1 && !endsCleanly)) damagedLines++;
  }
  return { valid: true, records: records.length > capacity ? records.slice(records.length - capacity) : records, damagedLines };
}

function serialise(records: readonly RequestRecord[]): string {
  return [JSON.stringify(HISTORY_HEADER), ...records.map((record) => JSON.stringify(record))].join('\n') + '\n';
}

function describeError(error: unknown): string {
  if (isRecordObject(error) && typeof error['code'] === 'string') return error['code'];
  return error instanceof Error ? error.name : 'unknown error';
}

/**
 * The history file. `load()` once at start; `append()` for every finished request (buffered); `flush()` before
 * shutdown; `reset()` to start over. All file operations run one after another, so appends never interleave with a
 * compaction or a reset.
 */
export class SpeedHistory {
  private readonly files: TextFiles;
  private readonly filePath: string;
  private readonly scheduler: Scheduler;
  private readonly wallClockMs: () => number;
  private readonly capacity: number;
  private readonly onWarning: (message: string) => void;

  private buffer: RequestRecord[] = [];
  private pendingFlush: ScheduledTask | null = null;
  private queue: Promise<void> = Promise.resolve();
  /** Records in the file (after the header), to know when to compact. */
  private linesInFile = 0;
  private writeFailureReported = false;

  constructor(options: SpeedHistoryOptions) {
    this.files = options.files;
    this.filePath = options.filePath;
    this.scheduler = options.scheduler;
    this.wallClockMs = options.wallClockMs;
    this.capacity = Math.max(1, Math.floor(options.capacity ?? 10_000));
    this.onWarning = options.onWarning ?? (() => undefined);
  }

  /** Reads the file. Never throws: a bad file is set aside and the history starts empty. */
  load(): Promise<HistoryLoadResult> {
    return this.enqueue(async () => {
      let text: string | null;
      try {
        text = await this.files.read(this.filePath);
      } catch (error) {
        return this.setAside(`it could not be read (${describeError(error)})`);
      }
      if (text === null) {
        this.linesInFile = 0;
        return { records: [], warning: null };
      }
      const parsed = parseHistoryText(text, this.capacity);
      if (!parsed.valid) return this.setAside('it is not a speed history file or its header is damaged');
      if (parsed.damagedLines > 0) {
        // Keep what is good, but keep the original too: set it aside, then write the clean records back.
        const result = await this.setAside(`${parsed.damagedLines} damaged line(s) were found`, parsed.records);
        await this.rewrite(parsed.records);
        return result;
      }
      this.linesInFile = parsed.records.length;
      return { records: parsed.records, warning: null };
    }, { records: [], warning: null });
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
      if (this.linesInFile === 0) {
        await this.files.writeAtomic(this.filePath, serialise(batch));
        this.linesInFile = batch.length;
      } else {
        await this.files.append(this.filePath, batch.map((record) => JSON.stringify(record) + '\n').join(''));
        this.linesInFile += batch.length;
      }
      if (this.linesInFile > this.capacity * 1.2) await this.compact();
    }, undefined);
  }

  /** Empties the history file (and drops anything buffered). */
  reset(): Promise<void> {
    this.pendingFlush?.cancel();
    this.pendingFlush = null;
    this.buffer = [];
    return this.enqueue(() => this.rewrite([]), undefined);
  }

  /** Writes what is buffered and stops the timer. */
  async dispose(): Promise<void> {
    await this.flush();
  }

  private async compact(): Promise<void> {
    const text = await this.files.read(this.filePath);
    const parsed = parseHistoryText(text ?? '', this.capacity);
    if (!parsed.valid) return;
    await this.rewrite(parsed.records);
  }

  private async rewrite(records: readonly RequestRecord[]): Promise<void> {
    await this.files.writeAtomic(this.filePath, serialise(records));
    this.linesInFile = records.length;
  }

  private async setAside(why: string, kept: readonly RequestRecord[] = []): Promise<HistoryLoadResult> {
    const asidePath = `${this.filePath}.damaged-${Math.floor(this.wallClockMs())}`;
    let where: string;
    try {
      await this.files.rename(this.filePath, asidePath);
      where = `it was set aside as ${asidePath}`;
    } catch (error) {
      where = `it could not be set aside either (${describeError(error)})`;
    }
    this.linesInFile = 0;
    const start = kept.length > 0 ? `the ${kept.length} good record(s) were kept` : 'a fresh history was started';
    const warning = `The speed history file had a problem: ${why}; ${where}, and ${start}.`;
    this.onWarning(warning);
    return { records: kept, warning };
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
    ];
    return fields.map(csvField).join(',');
  });
  return [CSV_COLUMNS.join(','), ...rows].join('\r\n') + '\r\n';
}

/** The history as one JSON document: the header fields, when it was exported, and the records oldest first. */
export function historyToJson(records: readonly RequestRecord[], exportedAtEpochMs: number): string {
  return JSON.stringify(
    { ...HISTORY_HEADER, exportedAt: new Date(exportedAtEpochMs).toISOString(), count: records.length, records },
    null,
    1,
  );
}
