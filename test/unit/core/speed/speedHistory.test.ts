import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import type { RequestRecord } from '../../../../src/core/requestStats';
import { ManualScheduler } from '../../../../src/core/scheduler';
import {
  HISTORY_FLUSH_DELAY_MS,
  HISTORY_HEADER,
  SpeedHistory,
  csvField,
  historyToCsv,
  historyToJson,
  parseHistoryText,
  parseRequestRecord,
  readHistoryTail,
} from '../../../../src/core/speed/speedHistory';
import { nodeTextFiles } from '../../../../src/core/speed/textFiles';
import type { AppendableTextFile, ReadableTextFile, TextFiles } from '../../../../src/core/speed/textFiles';
import { requestRecord } from '../../builders/requestRecords';

/** The n-th of a run of records: started n ms after the first, with a TTFT of 100 + n ms. */
function record(n: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return requestRecord({ startedAtEpochMs: 1_700_000_000_000 + n, ...overrides }, { ttftMs: 100 + n });
}

const header = JSON.stringify(HISTORY_HEADER);
const PATH = '/storage/speed-history.jsonl';

/** The history's file seam in memory (text per path), with the failures a disk can have. */
class MemoryFiles implements TextFiles {
  readonly contents = new Map<string, string>();
  /** Content writes: appends and atomic replacements (lock files not counted). */
  writes = 0;
  failRead: Error | null = null;
  failRename = false;
  failWrites = false;
  /** Modification times of files, for lock staleness (ms since the epoch); unset means 'now'. */
  readonly modifiedAt = new Map<string, number>();
  async openRead(path: string): Promise<ReadableTextFile | null> {
    if (this.failRead) throw this.failRead;
    const text = this.contents.get(path);
    if (text === undefined) return null;
    const bytes = Buffer.from(text, 'utf8');
    return {
      size: bytes.length,
      read: async (position, length) => bytes.subarray(position, position + length),
      close: async () => undefined,
    };
  }
  async openAppend(path: string): Promise<AppendableTextFile> {
    if (this.failWrites) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    const before = this.contents.get(path) ?? '';
    this.contents.set(path, before);
    return {
      size: Buffer.byteLength(before),
      endsWithNewline: before === '' || before.endsWith('\n'),
      append: async (data) => {
        this.writes++;
        this.contents.set(path, (this.contents.get(path) ?? '') + Buffer.from(data).toString('utf8'));
      },
      close: async () => undefined,
    };
  }
  async writeAtomic(path: string, content: string): Promise<void> {
    if (this.failWrites) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    this.writes++;
    this.contents.set(path, content);
  }
  async rename(fromPath: string, toPath: string): Promise<void> {
    if (this.failRename) throw Object.assign(new Error('nope'), { code: 'EACCES' });
    const text = this.contents.get(fromPath);
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    this.contents.delete(fromPath);
    this.contents.set(toPath, text);
  }
  async createExclusive(path: string, content: string): Promise<boolean> {
    if (this.failWrites) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    if (this.contents.has(path)) return false;
    this.contents.set(path, content);
    return true;
  }
  async modifiedAtMs(path: string): Promise<number | null> {
    return this.contents.has(path) ? (this.modifiedAt.get(path) ?? NOW_MS) : null;
  }
  async remove(path: string): Promise<void> {
    this.contents.delete(path);
    this.modifiedAt.delete(path);
  }
}

/** The wall clock of the tests, in ms since the epoch. */
const NOW_MS = 1_700_000_000_000;

function setup(files: TextFiles = new MemoryFiles(), capacity?: number) {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const warnings: string[] = [];
  /** Waits the history asked for while the lock was held by someone else. */
  const sleeps: number[] = [];
  const history = new SpeedHistory({
    files,
    filePath: PATH,
    scheduler,
    wallClockMs: () => NOW_MS,
    capacity,
    onWarning: (message) => warnings.push(message),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { history, scheduler, warnings, sleeps };
}

describe('SpeedHistory', () => {
  it('starts empty without a warning when there is no file', async () => {
    const { history, warnings } = setup();
    expect(await history.load()).toEqual({ records: [], warning: null });
    expect(warnings).toEqual([]);
  });

  it('batches appends into one write after the flush delay, and reads them back', async () => {
    const files = new MemoryFiles();
    const { history, scheduler } = setup(files);
    await history.load();
    for (let i = 0; i < 50; i++) history.append(record(i));
    expect(files.writes).toBe(0);
    scheduler.advance(HISTORY_FLUSH_DELAY_MS);
    await history.flush();
    expect(files.writes).toBe(1);
    history.append(record(50));
    await history.flush();
    expect(files.writes).toBe(2);
    const reloaded = await setup(files).history.load();
    expect(reloaded.records).toHaveLength(51);
    expect(reloaded.records[50]).toEqual(record(50));
    expect(files.contents.get(PATH)?.split('\n')[0]).toBe(header);
  });

  it('does not keep a rate limit’s retryAfterMs: the wait has passed by the next load', async () => {
    const files = new MemoryFiles();
    const { history } = setup(files);
    await history.load();
    history.append(record(1, { outcome: 'error', errorReason: 'rate-limited', retryAfterMs: 12_000 }));
    await history.flush();
    expect(files.contents.get(PATH)).not.toContain('retryAfterMs');
    const reloaded = await setup(files).history.load();
    expect(reloaded.records).toEqual([
      record(1, { outcome: 'error', errorReason: 'rate-limited', retryAfterMs: null }),
    ]);
  });

  it('compacts the file back to the capacity once it grows 20% past it', async () => {
    const files = new MemoryFiles();
    const { history } = setup(files, 100);
    await history.load();
    for (let i = 0; i < 121; i++) {
      history.append(record(i));
      if (i % 10 === 0) await history.flush();
    }
    await history.flush();
    const lines = (files.contents.get(PATH) ?? '').trimEnd().split('\n');
    expect(lines).toHaveLength(101);
    expect(parseRequestRecord(JSON.parse(lines[1] ?? ''))?.startedAtEpochMs).toBe(record(21).startedAtEpochMs);
  });

  it('keeps only the newest `capacity` records when loading a longer file', async () => {
    const files = new MemoryFiles();
    files.contents.set(
      PATH,
      [header, ...Array.from({ length: 30 }, (_, i) => JSON.stringify(record(i)))].join('\n') + '\n',
    );
    const { records } = await setup(files, 10).history.load();
    expect(records.map((r) => r.stats.ttftMs)).toEqual(Array.from({ length: 10 }, (_, i) => 120 + i));
  });

  it('sets a file with a bad header aside with one warning and starts fresh', async () => {
    const files = new MemoryFiles();
    files.contents.set(PATH, 'this is not json\n{"also": "bad"}\n');
    const { history, warnings } = setup(files);
    const result = await history.load();
    expect(result.records).toEqual([]);
    expect(result.warning).toContain('set aside');
    expect(warnings).toHaveLength(1);
    expect(files.contents.has(PATH)).toBe(false);
    expect(files.contents.get(`${PATH}.damaged-1700000000000`)).toContain('this is not json');
    history.append(record(1));
    await history.flush();
    expect((await setup(files).history.load()).records).toHaveLength(1);
  });

  it('drops an unfinished last line (a crash mid-append) silently', async () => {
    const files = new MemoryFiles();
    files.contents.set(PATH, `${header}\n${JSON.stringify(record(1))}\n{"startedAtEpo`);
    const { history, warnings } = setup(files);
    const result = await history.load();
    expect(result).toEqual({ records: [record(1)], warning: null });
    expect(warnings).toEqual([]);
  });

  it('skips and counts damaged lines with one warning, and leaves the file as it is (other windows append to it)', async () => {
    const files = new MemoryFiles();
    const bad = JSON.stringify({ ...record(2), outcome: 'exploded' });
    const original = `${header}\n${JSON.stringify(record(1))}\n${bad}\nnot json at all\n${JSON.stringify(record(3))}\n`;
    files.contents.set(PATH, original);
    const { history, warnings } = setup(files);
    const result = await history.load();
    expect(result.records).toEqual([record(1), record(3)]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('2 damaged line(s)');
    expect(result.warning).toBe(warnings[0]);
    expect(files.contents.get(PATH)).toBe(original);
    history.append(record(4));
    await history.flush();
    expect((await setup(files).history.load()).records).toEqual([record(1), record(3), record(4)]);
  });

  it('a second header line (two windows created the file at once) is no damage', async () => {
    const files = new MemoryFiles();
    files.contents.set(PATH, `${header}\n${JSON.stringify(record(1))}\n${header}\n${JSON.stringify(record(2))}\n`);
    const { history, warnings } = setup(files);
    expect(await history.load()).toEqual({ records: [record(1), record(2)], warning: null });
    expect(warnings).toEqual([]);
    expect(parseHistoryText(files.contents.get(PATH) ?? '', 10)).toEqual({
      valid: true,
      records: [record(1), record(2)],
      damagedLines: 0,
    });
  });

  it('ends a line left unfinished by a crash before appending, so the new batch is read back whole', async () => {
    const files = new MemoryFiles();
    files.contents.set(PATH, `${header}\n${JSON.stringify(record(1))}\n{"startedAtEpo`);
    const { history } = setup(files);
    await history.load();
    history.append(record(2));
    await history.flush();
    const reloaded = await setup(files).history.load();
    expect(reloaded.records).toEqual([record(1), record(2)]);
    expect(reloaded.warning).toContain('1 damaged line(s)');
  });

  it('appends wait while another window holds the lock, and go ahead without it rather than lose the batch', async () => {
    const files = new MemoryFiles();
    files.contents.set(`${PATH}.lock`, 'other window');
    const { history, sleeps } = setup(files);
    await history.load();
    history.append(record(1));
    await history.flush();
    expect(sleeps.length).toBeGreaterThan(10);
    expect(files.contents.get(`${PATH}.lock`)).toBe('other window');
    expect((await setup(files).history.load()).records).toEqual([record(1)]);
  });

  it('breaks a lock left by a window that died holding it', async () => {
    const files = new MemoryFiles();
    files.contents.set(`${PATH}.lock`, 'crashed window');
    files.modifiedAt.set(`${PATH}.lock`, NOW_MS - 60_000);
    const { history, sleeps } = setup(files);
    history.append(record(1));
    await history.flush();
    expect(sleeps).toEqual([]);
    expect(files.contents.has(`${PATH}.lock`)).toBe(false);
    expect((await setup(files).history.load()).records).toEqual([record(1)]);
  });

  it('never throws when the file cannot be read, nor set aside, nor written', async () => {
    const files = new MemoryFiles();
    files.contents.set(PATH, 'x');
    files.failRead = Object.assign(new Error('denied'), { code: 'EACCES' });
    files.failRename = true;
    files.failWrites = true;
    const { history, warnings } = setup(files);
    const result = await history.load();
    expect(result.records).toEqual([]);
    expect(result.warning).toContain('EACCES');
    history.append(record(1));
    await expect(history.flush()).resolves.toBeUndefined();
    history.append(record(2));
    await expect(history.flush()).resolves.toBeUndefined();
    // One warning for the unreadable file, one (not two) for the failed writes.
    expect(warnings).toHaveLength(2);
    expect(warnings[1]).toContain('ENOSPC');
  });

  it('reset empties the file and drops buffered records', async () => {
    const files = new MemoryFiles();
    const { history } = setup(files);
    await history.load();
    history.append(record(1));
    await history.flush();
    history.append(record(2));
    await history.reset();
    await history.flush();
    expect(files.contents.get(PATH)).toBe(`${header}\n`);
    expect(history.pendingCount()).toBe(0);
  });

  describe('on a real folder (node:fs)', () => {
    let dir = '';
    afterEach(() => {
      if (dir !== '') rmSync(dir, { recursive: true, force: true });
    });

    it('writes, reloads, and sets aside a corrupt file', async () => {
      dir = mkdtempSync(join(tmpdir(), 'speed-history-'));
      const filePath = join(dir, 'nested', 'speed-history.jsonl');
      const clock = new ManualClock();
      const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
      const make = () => new SpeedHistory({ files: nodeTextFiles, filePath, scheduler, wallClockMs: () => 42 });
      const first = make();
      await first.load();
      first.append(record(1));
      first.append(record(2));
      await first.dispose();
      expect((await make().load()).records).toEqual([record(1), record(2)]);
      writeFileSync(filePath, '\u0000\u0001 garbage');
      const third = await make().load();
      expect(third.records).toEqual([]);
      expect(third.warning).toContain('set aside');
      expect(readdirSync(join(dir, 'nested')).sort()).toEqual(['speed-history.jsonl.damaged-42']);
      if (process.getuid?.() !== 0) {
        writeFileSync(filePath, `${header}\n`);
        chmodSync(filePath, 0o000);
        const unreadable = await make().load();
        expect(unreadable.warning).toContain('could not be read');
      }
      expect(readFileSync(join(dir, 'nested', 'speed-history.jsonl.damaged-42'), 'utf8')).toContain('garbage');
    });
  });
});

describe('parseRequestRecord', () => {
  it.each([
    ['a good record', record(1), true],
    ['a string', 'x', false],
    ['a wrong task', { ...record(1), task: 'chat' }, false],
    ['an unknown error reason', { ...record(1), errorReason: 'boom' }, false],
    ['a negative token count', { ...record(1), stats: { ...record(1).stats, outputTokens: -1 } }, false],
    ['a NaN-ish TTFT', { ...record(1), stats: { ...record(1).stats, ttftMs: '12' } }, false],
    ['missing stats', { ...record(1), stats: undefined }, false],
  ])('%s', (_name, value, ok) => {
    expect(parseRequestRecord(value) !== null).toBe(ok);
  });

  it('keeps the predicted-output figures, and loads older lines without them as requests without a prediction', () => {
    const predicted = record(1, {
      stats: {
        ...record(1).stats,
        acceptedPredictionTokens: 90,
        rejectedPredictionTokens: 12,
        effectiveTokensPerSec: 3400,
      },
    });
    expect(parseRequestRecord(JSON.parse(JSON.stringify(predicted)))).toEqual(predicted);
    const {
      acceptedPredictionTokens: _a,
      rejectedPredictionTokens: _r,
      effectiveTokensPerSec: _e,
      ...olderStats
    } = record(2).stats;
    expect(parseRequestRecord({ ...record(2), stats: olderStats })).toEqual(record(2));
    expect(
      parseRequestRecord({ ...record(3), stats: { ...record(3).stats, rejectedPredictionTokens: 'many' } }),
    ).toEqual(record(3));
  });

  it('keeps the prompt estimate, and loads older lines without it (or with a bad one) as null', () => {
    const withEstimate = record(1, { promptTokensEstimate: 1500 });
    expect(parseRequestRecord(JSON.parse(JSON.stringify(withEstimate)))).toEqual(withEstimate);
    const { promptTokensEstimate: _p, ...older } = record(2, { promptTokensEstimate: 1500 });
    expect(parseRequestRecord(older)).toEqual(record(2, { promptTokensEstimate: null }));
    expect(parseRequestRecord({ ...record(3), promptTokensEstimate: -4 })).toEqual(record(3));
  });

  it('drops unknown extra fields', () => {
    expect(parseRequestRecord({ ...record(1), secret: 'sk-abc' })).toEqual(record(1));
  });

  it('rejects a route reason no version ever gave', () => {
    expect(parseRequestRecord({ ...record(1), routeReason: 'something-new' })).toBeNull();
    expect(parseRequestRecord({ ...record(1), routeReason: 42 })).toBeNull();
  });
});

describe('history written by earlier versions', () => {
  it('loads records with the reasons the first generation service wrote, under the router’s name for them', () => {
    // `first-endpoint` and `failover:no-burst-endpoint` came from the service before the router; `only-endpoint` was
    // a reason the status text knew. None of these records may be lost. Old lines have no `retryAfterMs` either
    // (JSON.stringify leaves an undefined field out).
    const old = [
      { ...record(1), routeReason: 'first-endpoint', retryAfterMs: undefined },
      { ...record(2), routeReason: 'failover:no-burst-endpoint', retryAfterMs: undefined },
      { ...record(3), routeReason: 'only-endpoint', retryAfterMs: undefined },
      { ...record(4), routeReason: 'failover:http-502', retryAfterMs: undefined },
    ];
    const text = [header, ...old.map((line) => JSON.stringify(line))].join('\n') + '\n';
    expect(parseHistoryText(text, 100)).toEqual({
      valid: true,
      records: [record(1), record(2), record(3), record(4, { routeReason: 'failover:http-502' })],
      damagedLines: 0,
    });
  });
});

describe('export', () => {
  it('writes CSV with a header row, quoting, and formula injection defused', () => {
    const csv = historyToCsv([
      record(1, {
        endpointLabel: '=HYPERLINK("x"), "quoted"',
        routeReason: 'failover:network',
        promptTokensEstimate: 180,
      }),
    ]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'started_at,task,endpoint_id,endpoint_label,route_reason,outcome,error_reason,from_cache,ttft_ms,decode_tokens_per_sec,server_decode_tokens_per_sec,output_tokens,tokens_source,prompt_tokens,cached_prompt_tokens,prefill_tokens_per_sec,total_ms,accepted_prediction_tokens,rejected_prediction_tokens,effective_tokens_per_sec,prompt_tokens_estimate,cache_write_prompt_tokens',
    );
    expect(lines[1]).toBe(
      `2023-11-14T22:13:20.001Z,inline,burst#0,"'=HYPERLINK(""x""), ""quoted""",failover:network,ok,,false,101,1000,,50,server,200,,,150,,,,180,`,
    );
    expect(csvField('-1+1')).toBe("'-1+1");
    expect(csvField(null)).toBe('');
  });

  it('writes JSON that parses back to the same records', () => {
    const json = JSON.parse(historyToJson([record(1), record(2)], 0));
    expect(json.format).toBe(HISTORY_HEADER.format);
    expect(json.count).toBe(2);
    expect(json.records.map(parseRequestRecord)).toEqual([record(1), record(2)]);
  });
});

/** A read-only file in memory that counts the bytes and reads asked of it (the bounded-read seam). */
class CountingFiles implements TextFiles {
  bytesRead = 0;
  reads = 0;
  constructor(
    private readonly path: string,
    readonly content: Buffer,
  ) {}
  async openRead(path: string): Promise<ReadableTextFile | null> {
    if (path !== this.path) return null;
    const content = this.content;
    return {
      size: content.length,
      read: async (position: number, length: number) => {
        this.reads++;
        const bytes = content.subarray(position, Math.min(content.length, position + length));
        this.bytesRead += bytes.length;
        return bytes;
      },
      close: async () => undefined,
    };
  }
  async openAppend(): Promise<AppendableTextFile> {
    throw new Error('read-only');
  }
  async writeAtomic(): Promise<void> {
    throw new Error('read-only');
  }
  async rename(): Promise<void> {
    throw new Error('read-only');
  }
  async createExclusive(): Promise<boolean> {
    return true;
  }
  async modifiedAtMs(): Promise<number | null> {
    return null;
  }
  async remove(): Promise<void> {}
}

describe('SpeedHistory shared by two windows (issue 14, item 11)', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('two histories on one file, both started before it existed, both append and neither erases the other', async () => {
    dir = mkdtempSync(join(tmpdir(), 'speed-history-shared-'));
    const filePath = join(dir, 'speed-history.jsonl');
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const make = () => new SpeedHistory({ files: nodeTextFiles, filePath, scheduler, wallClockMs: () => 42 });
    const first = make();
    const second = make();
    expect((await first.load()).records).toEqual([]);
    expect((await second.load()).records).toEqual([]);
    first.append(record(1));
    await first.flush();
    second.append(record(2));
    await second.flush();
    first.append(record(3));
    second.append(record(4));
    await Promise.all([first.flush(), second.flush()]);
    const reloaded = await make().load();
    expect(reloaded.warning).toBeNull();
    expect(reloaded.records.map((r) => r.stats.ttftMs).sort()).toEqual([101, 102, 103, 104]);
  });
});

describe('SpeedHistory compaction beside another window', () => {
  let dir = '';
  afterEach(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the newest records of both windows, and leaves no lock or temporary file behind', async () => {
    dir = mkdtempSync(join(tmpdir(), 'speed-history-compact-'));
    const filePath = join(dir, 'speed-history.jsonl');
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const make = () =>
      new SpeedHistory({ files: nodeTextFiles, filePath, scheduler, wallClockMs: () => Date.now(), capacity: 100 });
    const first = make();
    const second = make();
    await Promise.all([first.load(), second.load()]);
    // 300 records, written alternately in batches of 10 by the two windows: compaction runs more than once.
    for (let batch = 0; batch < 30; batch++) {
      const writer = batch % 2 === 0 ? first : second;
      for (let i = 0; i < 10; i++) writer.append(record(batch * 10 + i));
      await writer.flush();
    }
    const lines = readFileSync(filePath, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(1 + 120 + 10);
    const reloaded = await make().load();
    expect(reloaded.records).toEqual(Array.from({ length: 100 }, (_, i) => record(200 + i)));
    expect(readdirSync(dir)).toEqual(['speed-history.jsonl']);
  });
});

describe('readHistoryTail', () => {
  function memoryFile(text: string): ReadableTextFile & { reads: number } {
    const bytes = Buffer.from(text, 'utf8');
    const file = {
      size: bytes.length,
      reads: 0,
      read: async (position: number, length: number) => {
        file.reads++;
        return bytes.subarray(position, position + length);
      },
      close: async () => undefined,
    };
    return file;
  }

  it('splits lines across chunk boundaries without breaking multi-byte characters', async () => {
    const records = [
      record(1, { endpointLabel: 'Café ☕ 模型' }),
      record(2, { endpointLabel: 'emoji 😀😀' }),
      record(3),
    ];
    const file = memoryFile([header, ...records.map((r) => JSON.stringify(r))].join('\n') + '\n');
    for (const chunk of [1, 3, 7, 64, 1 << 20]) {
      const tail = await readHistoryTail(file, 100, 1 << 20, chunk);
      expect(tail, `chunk ${chunk}`).toMatchObject({ valid: true, records, damagedLines: 0 });
    }
  });

  it('skips an overlong line as one damaged line', async () => {
    const file = memoryFile(
      `${header}\n${JSON.stringify(record(1))}\n${'x'.repeat(200_000)}\n${JSON.stringify(record(2))}\n`,
    );
    const tail = await readHistoryTail(file, 100, 1 << 20, 4096);
    expect(tail).toMatchObject({ valid: true, records: [record(1), record(2)], damagedLines: 1 });
  });

  it('a file without the header is not a history file, and only its start is read', async () => {
    const file = memoryFile('x'.repeat(100_000));
    expect((await readHistoryTail(file, 100)).valid).toBe(false);
    expect(file.reads).toBe(1);
  });
});

describe('SpeedHistory reads a large file from its end, bounded and asynchronously', () => {
  const LINE_COUNT = 125_000;
  let bigFile: Buffer | null = null;
  function big(): Buffer {
    if (bigFile === null) {
      const lines = [header];
      for (let i = 0; i < LINE_COUNT; i++) lines.push(JSON.stringify(record(i)));
      bigFile = Buffer.from(lines.join('\n') + '\n', 'utf8');
    }
    return bigFile;
  }

  it('a 50 MB file: only the newest records are read, never the whole file, in several reads', async () => {
    const files = new CountingFiles(PATH, big());
    expect(files.content.length).toBeGreaterThan(45 * 1024 * 1024);
    const { history, warnings } = setup(files, 10_000);
    const pending = history.load();
    // Nothing is read synchronously: load returns before the first byte is read.
    expect(files.bytesRead).toBe(0);
    const result = await pending;
    expect(result.warning).toBeNull();
    expect(warnings).toEqual([]);
    expect(result.records).toHaveLength(10_000);
    expect(result.records[0]).toEqual(record(LINE_COUNT - 10_000));
    expect(result.records[9_999]).toEqual(record(LINE_COUNT - 1));
    const lineBytes = files.content.length / LINE_COUNT;
    // The newest 10,000 lines, plus at most one read chunk and the header probe; far from the whole file.
    expect(files.bytesRead).toBeLessThan(10_000 * lineBytes + 1024 * 1024 + 8192);
    expect(files.bytesRead).toBeLessThan(files.content.length / 5);
    expect(files.reads).toBeGreaterThan(2);
  });

  it('never reads more than the byte bound, even when the capacity would allow more', async () => {
    const files = new CountingFiles(PATH, big());
    const clock = new ManualClock();
    const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
    const history = new SpeedHistory({
      files,
      filePath: PATH,
      scheduler,
      wallClockMs: () => 0,
      capacity: 1_000_000,
      maxReadBytes: 2 * 1024 * 1024,
    });
    const result = await history.load();
    expect(files.bytesRead).toBeLessThanOrEqual(2 * 1024 * 1024 + 8192);
    expect(result.records.length).toBeGreaterThan(1_000);
    expect(result.records.at(-1)).toEqual(record(LINE_COUNT - 1));
    expect(result.warning).toBeNull();
  });
});
