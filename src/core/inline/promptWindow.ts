import type { TokenCounter } from '../stream/meter';

/** Lines longer than this are counted each time instead of being remembered (they are rare and would bloat the memo). */
const MAX_MEMO_LINE_CHARS = 400;

/** Characters per token assumed for a line not counted yet: low for code, so the estimate errs on the large side. */
const ESTIMATE_CHARS_PER_TOKEN = 3;

/**
 * Counts tokens line by line and remembers each line's count, so that sizing a window on every keystroke costs one
 * tokenizer call for the line being typed and map look-ups for the rest.
 *
 * With `estimateMisses`, a line not counted yet is estimated (1 token per 3 characters, which overstates code) and
 * queued; `countQueued()` counts the queue exactly later, off the request's path. The exact tokenizer costs about
 * 1.5 us per character, so a cold 6,000-character window would otherwise add about 9 ms to the first request in a file.
 */
export class LineTokenMemo {
  private readonly counts = new Map<string, number>();
  private queued: string[] = [];

  constructor(
    private readonly countTokens: TokenCounter,
    /** Most lines remembered; the oldest half is dropped when full. */
    private readonly capacity = 20_000,
    private readonly estimateMisses = false,
  ) {}

  /** Tokens of one line (its newline counted as one more). */
  lineTokens(line: string): number {
    if (line.length > MAX_MEMO_LINE_CHARS)
      return this.estimateMisses ? Math.ceil(line.length / ESTIMATE_CHARS_PER_TOKEN) + 1 : this.countTokens(line) + 1;
    const known = this.counts.get(line);
    if (known !== undefined) return known;
    if (this.estimateMisses) {
      this.queued.push(line);
      return Math.ceil(line.length / ESTIMATE_CHARS_PER_TOKEN) + 1;
    }
    return this.remember(line);
  }

  /** Lines waiting for an exact count. */
  get queuedLines(): number {
    return this.queued.length;
  }

  /** Counts the queued lines exactly (call it when idle). */
  countQueued(): void {
    const lines = this.queued;
    this.queued = [];
    for (const line of lines) if (!this.counts.has(line)) this.remember(line);
  }

  private remember(line: string): number {
    const counted = this.countTokens(line) + 1;
    if (this.counts.size >= this.capacity) this.dropOldestHalf();
    this.counts.set(line, counted);
    return counted;
  }

  private dropOldestHalf(): void {
    let toDrop = Math.floor(this.capacity / 2);
    for (const key of this.counts.keys()) {
      if (toDrop-- <= 0) break;
      this.counts.delete(key);
    }
  }
}

/** A window cut out of a text, and its size. */
export interface TextWindow {
  readonly text: string;
  readonly tokens: number;
}

/**
 * The end of `prefix` that fits `budgetTokens`, cut at a line start so that the window's first line is whole. The line
 * holding the cursor is always kept (cut from its end if it alone is over budget).
 */
export function prefixWindow(prefix: string, budgetTokens: number, memo: LineTokenMemo): TextWindow {
  let end = prefix.length;
  let start = end === 0 ? 0 : prefix.lastIndexOf('\n', end - 1) + 1;
  let tokens = memo.lineTokens(prefix.slice(start));
  if (tokens > budgetTokens) {
    const keepChars = Math.max(0, budgetTokens * 3);
    const text = prefix.slice(Math.max(start, prefix.length - keepChars));
    return { text, tokens: budgetTokens };
  }
  while (start > 0) {
    end = start - 1;
    const lineStart = end === 0 ? 0 : prefix.lastIndexOf('\n', end - 1) + 1;
    const lineTokens = memo.lineTokens(prefix.slice(lineStart, end));
    if (tokens + lineTokens > budgetTokens) break;
    tokens += lineTokens;
    start = lineStart;
  }
  return { text: prefix.slice(start), tokens };
}

/** The start of `suffix` that fits `budgetTokens`, cut at a line end. The rest of the cursor's line is always kept. */
export function suffixWindow(suffix: string, budgetTokens: number, memo: LineTokenMemo): TextWindow {
  let end = suffix.indexOf('\n');
  if (end === -1) return { text: suffix, tokens: memo.lineTokens(suffix) };
  let tokens = memo.lineTokens(suffix.slice(0, end));
  while (end < suffix.length) {
    const next = suffix.indexOf('\n', end + 1);
    const lineEnd = next === -1 ? suffix.length : next;
    const lineTokens = memo.lineTokens(suffix.slice(end + 1, lineEnd));
    if (tokens + lineTokens > budgetTokens) break;
    tokens += lineTokens;
    end = lineEnd;
  }
  return { text: suffix.slice(0, end), tokens };
}
