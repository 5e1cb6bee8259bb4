import {
  CONTEXT_LINES,
  CURSOR_MARKER,
  layoutFor,
  REGION_END_MARKER,
  REGION_START_MARKER,
  START_OF_FILE_MARKER,
  type NextEditLayout,
} from './nextEditLayout';
import type { NextEditFormatId, NextEditPromptInput, RewriteRejection } from './nextEditTypes';

/** How a finished answer ended: the region text still held back, or why the whole answer is discarded. */
export type NextEditAnswerEnd =
  { readonly ok: true; readonly rest: string } | { readonly ok: false; readonly why: RewriteRejection };

/**
 * Reads a streamed next-edit answer and hands on the rewritten region's text as soon as it is certain. The text is in
 * the document's line breaks, so the pieces joined equal the new region (for an unchanged answer: the region's text).
 */
export interface NextEditAnswerParser {
  /** Takes the next piece of the answer; returns the region text now certain (markers, fences and cursor removed). */
  push(chunk: string): string;
  /**
   * Ends the answer. `streamCompleted` is false when the stream was cut (a limit, a failure): an answer whose end
   * marker never came is then `incomplete` rather than `unparsable`.
   */
  end(streamCompleted: boolean): NextEditAnswerEnd;
}

/** An answer that has not reached its opening after this many characters is prose, not a rewrite. */
const MAX_PREAMBLE_CHARS = 2_000;
/** Sweep's and Instinct's end tokens, in case a server leaves stop strings in the text. */
const END_TOKENS = ['<|file_sep|>', '<|endoftext|>', '<|im_end|>'];

/** What a format's answer looks like around the region. */
interface AnswerShape {
  /** How the region's text is introduced: a code fence, Zeta's echoed excerpt start, an optional start marker, nothing. */
  readonly opening: 'fence' | 'echo' | 'optional-marker' | 'none';
  /** For `echo`: the text the model echoes before the region (up to and including the start marker's line break). */
  readonly echoBefore: string;
  /** For `echo`: the text it echoes after the end marker. */
  readonly echoAfter: string;
  /** Texts that end the region (set again once a fence is read). */
  closers: readonly string[];
  /** Whether the answer is malformed without a closer (fence or marker formats); else the end of the stream ends it. */
  readonly needsCloser: boolean;
  /** Whether the answer is the bare region, so an echoed line from outside it must be caught by comparing lines. */
  readonly bareRegion: boolean;
}

function shapeOf(format: NextEditFormatId, input: NextEditPromptInput, layout: NextEditLayout): AnswerShape {
  switch (format) {
    case 'generic':
      return { opening: 'fence', echoBefore: '', echoAfter: '', closers: [], needsCloser: true, bareRegion: true };
    case 'zeta': {
      const startOfFile = layout.atFileStart ? `${START_OF_FILE_MARKER}\n` : '';
      const above = layout.before === '' ? '' : `${layout.before}\n`;
      const below = layout.after === '' ? '' : `\n${layout.after}`;
      return {
        opening: 'echo',
        echoBefore: `\`\`\`${input.path}\n${startOfFile}${above}${REGION_START_MARKER}\n`,
        echoAfter: `${below}\n\`\`\``,
        closers: [`\n${REGION_END_MARKER}`, REGION_END_MARKER],
        needsCloser: true,
        bareRegion: false,
      };
    }
    case 'sweep':
      return {
        opening: 'none',
        echoBefore: '',
        echoAfter: '',
        closers: END_TOKENS.flatMap((token) => [`\n${token}`, token]),
        needsCloser: false,
        bareRegion: true,
      };
    case 'instinct':
      return {
        opening: 'optional-marker',
        echoBefore: '',
        echoAfter: '',
        closers: [REGION_END_MARKER, ...END_TOKENS].flatMap((token) => [`\n${token}`, token]),
        needsCloser: false,
        bareRegion: true,
      };
  }
}

/** A parser for one answer to a prompt built by `buildNextEditPrompt(format, input)`. */
export function createAnswerParser(format: NextEditFormatId, input: NextEditPromptInput): NextEditAnswerParser {
  const layout = layoutFor(input, CONTEXT_LINES[format]);
  return new AnswerParser(shapeOf(format, input, layout), layout);
}

type Phase = 'opening' | 'body' | 'after' | 'rejected';

class AnswerParser implements NextEditAnswerParser {
  private phase: Phase = 'opening';
  private why: RewriteRejection = 'unparsable';
  /** A `\r` at the end of the last chunk, held until we know whether a `\n` follows. */
  private carriageReturn = false;
  /** Opening phase: the answer so far. Body phase: a held tail that may start a marker. After: the text after it. */
  private pending = '';
  /** The region's text read so far (LF, before the top-line check releases it). */
  private bodyText = '';
  /** How much of `bodyText` has been handed on. */
  private released = 0;
  /** Whether the top-line check has passed (bare-region formats hold the first two lines until it has). */
  private topChecked: boolean;
  private closed = false;
  /** Whether the region was ended by the end of the stream rather than by a marker (Sweep, Instinct). */
  private closedByStreamEnd = false;
  /** Whether `pending` starts with a line break already added to `bodyText`. */
  private lentLineBreak = false;

  constructor(
    private readonly shape: AnswerShape,
    private readonly layout: NextEditLayout,
  ) {
    this.topChecked = !shape.bareRegion;
  }

  push(chunk: string): string {
    let text = this.carriageReturn ? `\r${chunk}` : chunk;
    this.carriageReturn = text.endsWith('\r');
    if (this.carriageReturn) text = text.slice(0, -1);
    if (text.includes('\r')) text = text.replace(/\r\n/g, '\n');
    return this.feed(text, false);
  }

  end(streamCompleted: boolean): NextEditAnswerEnd {
    let rest = this.carriageReturn ? this.feed('\r', false) : '';
    this.carriageReturn = false;
    rest += this.feed('', true);
    if (this.phase === 'rejected') return { ok: false, why: this.why };
    if (!streamCompleted && this.closedByStreamEnd) return { ok: false, why: 'incomplete' };
    if (!this.closed) {
      if (!streamCompleted) return { ok: false, why: 'incomplete' };
      if (this.shape.needsCloser || this.phase === 'opening') return { ok: false, why: 'unparsable' };
    }
    if (this.shape.opening === 'echo' && !echoMatches(this.pending, this.shape.echoAfter, streamCompleted)) {
      return { ok: false, why: 'outside-region' };
    }
    const verdict = this.finalChecks();
    if (verdict !== null) return { ok: false, why: verdict };
    return { ok: true, rest: rest + this.release(true) };
  }

  /** Runs the phases over new text; `atEnd` resolves what was held back because more text might have followed. */
  private feed(text: string, atEnd: boolean): string {
    if (this.phase === 'rejected') return '';
    if (this.phase === 'after') {
      this.pending += text;
      return '';
    }
    this.pending += text;
    if (this.phase === 'opening' && !this.readOpening(atEnd)) return '';
    this.readBody(atEnd);
    return this.release(false);
  }

  /** Consumes the opening from `pending`; false while it is not complete yet (or the answer was rejected). */
  private readOpening(atEnd: boolean): boolean {
    const shape = this.shape;
    const text = this.pending;
    if (shape.opening === 'none') {
      this.phase = 'body';
      return true;
    }
    if (shape.opening === 'optional-marker') {
      const marker = `${REGION_START_MARKER}\n`;
      if (text.startsWith(marker)) this.pending = text.slice(marker.length);
      else if (marker.startsWith(text) && !atEnd) return false;
      this.phase = 'body';
      return true;
    }
    if (shape.opening === 'fence') {
      const fence = /(?:^|\n)(`{3,})[^`\n]*\n/.exec(text);
      if (fence === null) return this.stillOpening(text, atEnd);
      const ticks = fence[1] ?? '```';
      shape.closers = [`\n${ticks}`];
      this.pending = text.slice(fence.index + fence[0].length);
      this.phase = 'body';
      return true;
    }
    // Zeta echoes the excerpt: what it prints before the region must be the code before the region.
    const markerLine = `${REGION_START_MARKER}\n`;
    const at = text.indexOf(markerLine);
    if (at === -1) return this.stillOpening(text, atEnd);
    const echoed = text
      .slice(0, at + markerLine.length)
      .split(CURSOR_MARKER)
      .join('');
    if (echoed.trim() !== shape.echoBefore.trim()) return this.reject('outside-region');
    this.pending = text.slice(at + markerLine.length);
    this.phase = 'body';
    return true;
  }

  private stillOpening(text: string, atEnd: boolean): boolean {
    if (!atEnd && text.length > MAX_PREAMBLE_CHARS + this.shape.echoBefore.length) this.reject('unparsable');
    return false;
  }

  private reject(why: RewriteRejection): false {
    this.phase = 'rejected';
    this.why = why;
    this.pending = '';
    return false;
  }

  /** Moves certain region text from `pending` to `bodyText`, stopping at a closer; holds a tail that may start one. */
  private readBody(atEnd: boolean): void {
    const patterns = [...this.shape.closers, CURSOR_MARKER];
    for (;;) {
      const found = earliest(this.pending, patterns);
      if (found === null) break;
      const after = this.pending.slice(found.index + found.pattern.length);
      if (found.pattern === CURSOR_MARKER) {
        this.take(found.index);
        this.pending = after;
        continue;
      }
      if (found.index > 0) this.take(found.index);
      this.closeBody(after);
      return;
    }
    if (atEnd) {
      // A tail that could only have started a closer (or the cursor marker) is not region text: the stream ended on
      // it, e.g. Sweep's final line break before a stop string the server removed.
      const held = heldTail(this.pending, patterns);
      if (this.pending.length - held > 0) this.take(this.pending.length - held);
      if (!this.shape.needsCloser) {
        this.closedByStreamEnd = true;
        this.closeBody('');
      } else this.pending = '';
      return;
    }
    let safe = this.pending.length - heldTail(this.pending, patterns);
    // Never hand on half of a surrogate pair.
    const last = this.pending.charCodeAt(safe - 1);
    if (safe > 0 && last >= 0xd800 && last <= 0xdbff) safe--;
    if (safe > 0) this.take(safe);
    // A held line break is the region's own either way: a line break inside it, or (before a closer) its final one.
    // Handing it on now lets the caller see the line as complete one token sooner.
    if (!this.lentLineBreak && this.pending.startsWith('\n') && this.layout.endsWithLineBreak) {
      this.bodyText += '\n';
      this.lentLineBreak = true;
    }
  }

  /** Moves the first `count` characters of `pending` into the region text (a lent line break is there already). */
  private take(count: number): void {
    this.bodyText += this.pending.slice(this.lentLineBreak ? 1 : 0, count);
    this.pending = this.pending.slice(count);
    this.lentLineBreak = false;
  }

  private closeBody(after: string): void {
    if (this.lentLineBreak) {
      // The lent line break was the region's final one: not part of its lines, and already handed on if released.
      this.lentLineBreak = false;
      this.bodyText = this.bodyText.slice(0, -1);
      if (this.released > this.bodyText.length) {
        this.released = this.bodyText.length;
        this.finalBreakReleased = true;
      }
    }
    this.closed = true;
    this.phase = 'after';
    this.pending = after;
  }

  /** The region text that may be handed on now, in the document's line breaks. */
  private release(atEnd: boolean): string {
    if (this.phase === 'rejected') return '';
    if (!this.topChecked) {
      const lineCount = this.bodyText.split('\n').length;
      if (lineCount < 3 && !this.closed && !atEnd) return '';
      this.topChecked = true;
      if (echoesLineAbove(this.bodyText, this.layout)) {
        this.reject('outside-region');
        return '';
      }
    }
    let text = this.bodyText.slice(this.released);
    this.released = this.bodyText.length;
    if (this.closed && !this.finalBreakReleased) {
      this.finalBreakReleased = true;
      if (this.layout.endsWithLineBreak) text += '\n';
    }
    return this.layout.lineBreak === '\n' ? text : text.replace(/\n/g, '\r\n');
  }

  private finalBreakReleased = false;

  /** Checks that need the whole region: an echoed line below it, or a bare answer that is not a rewrite of it at all. */
  private finalChecks(): RewriteRejection | null {
    if (!this.shape.bareRegion) return null;
    if (!this.topChecked) {
      this.topChecked = true;
      if (echoesLineAbove(this.bodyText, this.layout)) return 'outside-region';
    }
    if (echoesLineBelow(this.bodyText, this.layout)) return 'outside-region';
    if (this.shape.opening !== 'fence' && !sharesALine(this.bodyText, this.layout.body)) return 'unparsable';
    return null;
  }
}

/** The first pattern found in `text` (the longest when several start at the same place). */
function earliest(text: string, patterns: readonly string[]): { index: number; pattern: string } | null {
  let best: { index: number; pattern: string } | null = null;
  for (const pattern of patterns) {
    const index = text.indexOf(pattern);
    if (index === -1) continue;
    if (best === null || index < best.index || (index === best.index && pattern.length > best.pattern.length)) {
      best = { index, pattern };
    }
  }
  return best;
}

/** The length of the longest tail of `text` that is the start of one of `patterns` (it may be split across chunks). */
function heldTail(text: string, patterns: readonly string[]): number {
  let longest = 0;
  for (const pattern of patterns) {
    for (let length = Math.min(pattern.length - 1, text.length); length > longest; length--) {
      if (text.endsWith(pattern.slice(0, length))) {
        longest = length;
        break;
      }
    }
  }
  return longest;
}

/** Whether the text Zeta echoed after the region agrees with the code there (it may stop early, or add a line break). */
function echoMatches(echoed: string, expected: string, streamCompleted: boolean): boolean {
  const text = echoed.split(CURSOR_MARKER).join('').trimEnd();
  const want = expected.trimEnd();
  if (text.startsWith(want)) return true;
  return streamCompleted ? want.startsWith(text) : want.startsWith(text) || text === '';
}

/**
 * Whether a line is the same line of code, perhaps edited: equal without indentation, or sharing most of its start.
 * This is how a bare-region answer (generic, Sweep, Instinct) that copied a line from just outside the region is told
 * apart from an inserted line: the copy resembles the outside line, an insertion usually does not.
 */
function resembles(line: string, other: string): boolean {
  const a = line.trim();
  const b = other.trim();
  if (a === b) return a.length > 0;
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return common >= 8 && common >= 0.6 * Math.max(a.length, b.length);
}

/** The answer starts with (a version of) the line above the region, followed by the region's own first line. */
function echoesLineAbove(body: string, layout: NextEditLayout): boolean {
  const above = layout.lineAbove;
  if (above === null || above.trim().length < 4) return false;
  const answer = body.split('\n');
  const region = layout.body.split('\n');
  const first = answer[0] ?? '';
  if (first === region[0]) return false;
  if (first === above) return true;
  return resembles(first, above) && !resembles(first, region[0] ?? '') && answer[1] === region[0];
}

/** The answer ends with (a version of) the line below the region, after the region's own last line. */
function echoesLineBelow(body: string, layout: NextEditLayout): boolean {
  const below = layout.lineBelow;
  if (below === null || below.trim().length < 4) return false;
  const answer = body.split('\n');
  const region = layout.body.split('\n');
  const last = answer[answer.length - 1] ?? '';
  const regionLast = region[region.length - 1] ?? '';
  if (last === regionLast) return false;
  if (last === below) return true;
  return resembles(last, below) && !resembles(last, regionLast) && answer[answer.length - 2] === regionLast;
}

/** Whether a bare answer keeps a non-blank line of a region of two or more (else it is prose, not a rewrite). */
function sharesALine(answer: string, region: string): boolean {
  const regionLines = new Set(
    region
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== ''),
  );
  // An empty answer is a dropped region, which the region diff reports as such, not an answer in another form.
  if (regionLines.size < 2 || answer.trim() === '') return true;
  return answer.split('\n').some((line) => regionLines.has(line.trim()));
}
