import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock';
import type { RequestRecord } from '../../src/core/requestStats';
import { ManualScheduler } from '../../src/core/scheduler';
import {
  HISTORY_FLUSH_DELAY_MS,
  HISTORY_HEADER,
  SpeedHistory,
  csvField,
  historyToCsv,
  historyToJson,
  parseHistoryText,
  parseRequestRecord,
} from '../../src/core/speedHistory';
import { nodeTextFiles } from '../../src/core/textFiles';
import type { TextFiles } from '../../src/core/textFiles';

function record(n: number, overrides: Partial<RequestRecord> = {}): RequestRecord {
  return {
    startedAtEpochMs: 1_700_000_000_000 + n,
    task: 'inline',
    endpointId: 'burst#0',
    endpointLabel: 'Cerebras llama3.1-8b',
    routeReason: 'fits',
    outcome: 'ok',
    errorReason: null,
    fromCache: false,
    stats: {
      ttftMs: 100 + n,
      decodeTokensPerSec: 1000,
      serverDecodeTokensPerSec: null,
      outputTokens: 50,
      tokensSource: 'server',
      promptTokens: 200,
      cachedPromptTokens: null,
      prefillTokensPerSec: null,
      totalMs: 150,
    },
    ...overrides,
  };
}

const header = JSON.stringify(HISTORY_HEADER);
const PATH = '/storage/speed-history.jsonl';

class MemoryFiles implements TextFiles {
  readonly contents = new Map<string, string>();
  writes = 0;
  failRead: Error | null = null;
  failRename = false;
  failWrites = false;
  async read(path: string): Promise<string | null> {
    if (this.failRead) throw this.failRead;
    return this.contents.get(path) ?? null;
  }
  async writeAtomic(path: string, content: string): Promise<void> {
    if (this.failWrites) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    this.writes++;
    this.contents.set(path, content);
  }
  async append(path: string, content: string): Promise<void> {
    if (this.failWrites) throw Object.assign(new Error('disk full'), { code: 'ENOSPC' });
    this.writes++;
    this.contents.set(path, (this.contents.get(path) ?? '') + content);
  }
  async rename(fromPath: string, toPath: string): Promise<void> {
    if (this.failRename) throw Object.assign(new Error('nope'), { code: 'EACCES' });
    const text = this.contents.get(fromPath);
    if (text === undefined) throw Object.assign(new Error('missing'), { code: 'ENOENT' });
    this.contents.delete(fromPath);
    this.contents.set(toPath, text);
  }
}

function setup(files: TextFiles = new MemoryFiles(), capacity?: number) {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const warnings: string[] = [];
  const history = new SpeedHistory({
    files,
    filePath: PATH,
    scheduler,
    wallClockMs: () => 1_700_000_000_000,
    capacity,
    onWarning: (message) => warnings.push(message),
  });
  return { history, scheduler, warnings };
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
    files.contents.set(PATH, [header, ...Array.from({ length: 30 }, (_, i) => JSON.stringify(record(i)))].join('\n') + '\n');
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

  it('keeps the good records of a file with damaged lines, and sets the original aside', async () => {
    const files = new MemoryFiles();
    const bad = JSON.stringify({ ...record(2), outcome: 'exploded' });
    files.contents.set(PATH, `${header}\n${JSON.stringify(record(1))}\n${bad}\n${JSON.stringify(record(3))}\n`);
    const { history, warnings } = setup(files);
    const result = await history.load();
    expect(result.records).toEqual([record(1), record(3)]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('1 damaged line');
    expect(files.contents.get(`${PATH}.damaged-1700000000000`)).toContain('exploded');
    expect(parseHistoryText(files.contents.get(PATH) ?? '', 100)).toEqual({ valid: true, records: [record(1), record(3)], damagedLines: 0 });
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

  it('drops unknown extra fields', () => {
    expect(parseRequestRecord({ ...record(1), secret: 'sk-abc' })).toEqual(record(1));
  });
});

describe('export', () => {
  it('writes CSV with a header row, quoting, and formula injection defused', () => {
    const csv = historyToCsv([record(1, { endpointLabel: '=HYPERLINK("x"), "quoted"', routeReason: 'failover:network' })]);
    const lines = csv.trimEnd().split('\r\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(
      'started_at,task,endpoint_id,endpoint_label,route_reason,outcome,error_reason,from_cache,ttft_ms,decode_tokens_per_sec,server_decode_tokens_per_sec,output_tokens,tokens_source,prompt_tokens,cached_prompt_tokens,prefill_tokens_per_sec,total_ms',
    );
    expect(lines[1]).toBe(
      `2023-11-14T22:13:20.001Z,inline,burst#0,"'=HYPERLINK(""x""), ""quoted""",failover:network,ok,,false,101,1000,,50,server,200,,,150`,
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
