/**
 * Where the extractor is in the model's answer:
 * - `start`: before the first line that says what kind of answer this is;
 * - `thinking`: inside a `<think>` block some models put in the text;
 * - `prose`: after sentences that introduce code, waiting for a fence or code;
 * - `fenced`: inside the first fenced code block;
 * - `raw`: the answer is bare code without a fence;
 * - `done`: after the code (a closing fence); the rest is commentary and is dropped.
 */
export type ExtractorState = 'start' | 'thinking' | 'prose' | 'fenced' | 'raw' | 'done';

const FENCE_OPEN = /^ {0,3}(`{3,}|~{3,})[^`]*$/;

/**
 * Pulls the code out of a streamed model answer: markdown fences, a sentence before or after, `<think>` blocks.
 * It is a push transform: `push(chunk)` returns the code text that can be shown now, `finish()` the rest. Correct on
 * any chunk boundary (a fence split as "`" + "``ts"), and it emits text within the line it arrives in, except:
 * - a line that might still turn out to be a closing fence (only fence characters or whitespace so far) waits for more;
 * - newlines are emitted lazily, just before the next line's text, so trailing newlines never reach the editor (the
 *   caller decides the final newline from the text it replaces);
 * - lines before the kind of answer is known (the first line) wait for their newline.
 * Carriage returns are dropped: the editor's end-of-line sequence is applied later.
 */
export class CodeExtractor {
  private stateValue: ExtractorState = 'start';
  /** The current line, not yet complete and not yet emitted (in `start`, `prose` and `thinking` states, whole lines). */
  private lineBuffer = '';
  /** How much of `lineBuffer` has already been emitted (in `fenced` and `raw` states). */
  private emittedInLine = 0;
  /** Newlines seen but not yet emitted, because no text has followed them yet. */
  private pendingNewlines = 0;
  /** Whether any code text has been emitted (newlines before the first code line are dropped). */
  private emittedAny = false;
  private fenceChar = '`';
  private fenceLength = 3;

  /** The current state, for tests and diagnostics. */
  get state(): ExtractorState {
    return this.stateValue;
  }

  /** Feeds a chunk of the answer; returns the code that can be emitted now (maybe empty). */
  push(chunk: string): string {
    let out = '';
    let rest = chunk.includes('\r') ? chunk.replace(/\r/g, '') : chunk;
    while (rest.length > 0 && this.stateValue !== 'done') {
      const newlineAt = rest.indexOf('\n');
      if (newlineAt < 0) {
        this.lineBuffer += rest;
        out += this.emitPartialLine();
        break;
      }
      this.lineBuffer += rest.slice(0, newlineAt);
      rest = rest.slice(newlineAt + 1);
      out += this.completeLine();
    }
    return out;
  }

  /** Ends the answer; returns the last code text. */
  finish(): string {
    if (this.stateValue === 'done' || this.lineBuffer.length === 0) return '';
    // A last line without a newline is treated as complete.
    const out = this.completeLine();
    return out;
  }

  private emitPartialLine(): string {
    if (this.stateValue !== 'fenced' && this.stateValue !== 'raw') return '';
    if (this.mightBeClosingFence(this.lineBuffer)) return '';
    return this.emitLineText();
  }

  /** Handles a full line (its newline has arrived, or the answer ended); clears the line buffer. */
  private completeLine(): string {
    const line = this.lineBuffer;
    let out = '';
    switch (this.stateValue) {
      case 'start':
      case 'prose':
        out = this.classifyLine(line);
        break;
      case 'thinking':
        if (line.trim() === '</think>' || line.trimEnd().endsWith('</think>')) this.stateValue = 'start';
        break;
      case 'fenced':
        if (this.isClosingFence(line)) {
          this.stateValue = 'done';
        } else {
          out = this.emitLineText();
          this.pendingNewlines += 1;
        }
        break;
      case 'raw':
        // Bare code can still be closed by a fence the model adds at the end.
        if (this.isClosingFence(line) && this.emittedInLine === 0) {
          this.stateValue = 'done';
        } else {
          out = this.emitLineText();
          this.pendingNewlines += 1;
        }
        break;
      case 'done':
        break;
    }
    this.lineBuffer = '';
    this.emittedInLine = 0;
    return out;
  }

  /** Decides what the answer is from its first lines. */
  private classifyLine(line: string): string {
    const trimmed = line.trim();
    if (trimmed.length === 0) return '';
    if (this.stateValue === 'start' && trimmed === '<think>') {
      this.stateValue = 'thinking';
      return '';
    }
    const open = FENCE_OPEN.exec(line);
    if (open !== null && open[1] !== undefined) {
      this.fenceChar = open[1].charAt(0);
      this.fenceLength = open[1].length;
      this.stateValue = 'fenced';
      return '';
    }
    if (isProseLine(trimmed)) {
      // An introduction ("Here is the simplified code:"): wait for the fence or the code that follows it.
      this.stateValue = 'prose';
      return '';
    }
    this.stateValue = 'raw';
    const out = this.emitLineText();
    this.pendingNewlines += 1;
    return out;
  }

  /** Emits the not-yet-emitted part of the current line, preceded by any newlines it was waiting for. */
  private emitLineText(): string {
    const text = this.lineBuffer.slice(this.emittedInLine);
    if (text.length === 0) return '';
    this.emittedInLine = this.lineBuffer.length;
    const newlines = this.emittedAny ? '\n'.repeat(this.pendingNewlines) : '';
    this.pendingNewlines = 0;
    this.emittedAny = true;
    return newlines + text;
  }

  /** True while the (incomplete) line could still become a fence line: nothing but whitespace and fence characters. */
  private mightBeClosingFence(partial: string): boolean {
    if (this.emittedInLine > 0) return false;
    const trimmed = partial.trimStart();
    if (partial.length - trimmed.length > 3 && trimmed.length > 0) return false;
    for (const char of trimmed) {
      if (char !== this.fenceChar && char !== ' ' && char !== '\t') return false;
    }
    return true;
  }

  private isClosingFence(line: string): boolean {
    const trimmed = line.trim();
    if (trimmed.length < this.fenceLength) return false;
    for (const char of trimmed) if (char !== this.fenceChar) return false;
    return line.length - line.trimStart().length <= 3;
  }
}

/**
 * True for a line that reads as an English sentence introducing code ("Here is the refactored function:", "Sure!"),
 * false for anything that looks like code. Code lines nearly always hold punctuation a sentence lacks.
 */
export function isProseLine(trimmed: string): boolean {
  if (!/^[A-Z][A-Za-z']*[,!]?(\s|$)/.test(trimmed)) return false;
  if (/[;{}=<>[\]]|=>|\/\/|^#|::/.test(trimmed)) return false;
  const words = trimmed.split(/\s+/).length;
  if (/[:.!]$/.test(trimmed)) return words >= 2 || /^(Sure|Certainly|Okay|OK)\b/.test(trimmed);
  // A sentence without a final colon or stop: require enough words that it cannot be a call like `Foo(bar)`.
  return words >= 5 && !/\(/.test(trimmed);
}
