import type { NextEditFormatId, NextEditPromptInput } from './nextEditTypes';

/** Marks the first line of the editable region (Zeta's and Instinct's token; the generic format borrows it). */
export const REGION_START_MARKER = '<|editable_region_start|>';
/** Marks the end of the editable region. */
export const REGION_END_MARKER = '<|editable_region_end|>';
/** Marks the cursor inside the region; never part of an answer's text. */
export const CURSOR_MARKER = '<|user_cursor_is_here|>';
/** Zeta's marker for an excerpt that starts at the top of the file. */
export const START_OF_FILE_MARKER = '<|start_of_file|>';

/**
 * Lines of code shown around the region, per format. Zeta echoes the code around the region in its answer, so its
 * context is paid for twice (prompt and output tokens) and is kept near Zed's own budget (about 150 tokens); the other
 * formats only read it.
 */
export const CONTEXT_LINES: Readonly<Record<NextEditFormatId, number>> = {
  generic: 40,
  zeta: 5,
  sweep: 40,
  instinct: 25,
};

/**
 * What every format is built from: the region and the code around it as LF text (models are trained on `\n`; answers
 * are turned back into the document's line breaks by the parser), with the region's last line break split off.
 */
export interface NextEditLayout {
  /** The region without its final line break (and without the cursor marker). */
  readonly body: string;
  /** The same with the cursor marker at the cursor. */
  readonly bodyWithCursor: string;
  /** Whether the region ends with a line break (every region does but one that ends at the end of the text). */
  readonly endsWithLineBreak: boolean;
  /** The document's line break, restored in the parsed answer. */
  readonly lineBreak: '\n' | '\r\n';
  /** Up to the format's context lines just above the region, without the final line break; '' when none. */
  readonly before: string;
  /** Up to the format's context lines just below the region, without the final line break; '' when none. */
  readonly after: string;
  /** Whether `before` starts at the top of the file. */
  readonly atFileStart: boolean;
  /** The line just above the region, or null at the top of the file. */
  readonly lineAbove: string | null;
  /** The line just below the region, or null when the region reaches the end of the file. */
  readonly lineBelow: string | null;
}

/** The layout of a prompt input for a format with `contextLines` lines of code around the region. */
export function layoutFor(input: NextEditPromptInput, contextLines: number): NextEditLayout {
  const { text, region } = input;
  const endsWithLineBreak = region.text.endsWith('\n');
  const bare = endsWithLineBreak ? region.text.slice(0, region.text.endsWith('\r\n') ? -2 : -1) : region.text;
  const cursor = Math.min(region.cursorOffset, bare.length);
  const body = toLf(bare);
  const bodyWithCursor = `${toLf(bare.slice(0, cursor))}${CURSOR_MARKER}${toLf(bare.slice(cursor))}`;

  let beforeStart = region.start;
  for (let line = 0; line < contextLines && beforeStart > 0; line++) {
    beforeStart = beforeStart <= 1 ? 0 : text.lastIndexOf('\n', beforeStart - 2) + 1;
  }
  const before = toLf(withoutFinalLineBreak(text.slice(beforeStart, region.start)));

  let afterEnd = region.end;
  if (endsWithLineBreak) {
    for (let line = 0; line < contextLines && afterEnd < text.length; line++) {
      const lineBreak = text.indexOf('\n', afterEnd);
      afterEnd = lineBreak === -1 ? text.length : lineBreak + 1;
    }
  }
  const after = toLf(withoutFinalLineBreak(text.slice(region.end, afterEnd)));

  const aboveStart = region.start <= 1 ? 0 : text.lastIndexOf('\n', region.start - 2) + 1;
  const lineAbove = region.start === 0 ? null : toLf(withoutFinalLineBreak(text.slice(aboveStart, region.start)));
  const belowEnd = text.indexOf('\n', region.end);
  const lineBelow =
    !endsWithLineBreak || region.end >= text.length
      ? null
      : toLf(withoutFinalLineBreak(text.slice(region.end, belowEnd === -1 ? text.length : belowEnd)));

  return {
    body,
    bodyWithCursor,
    endsWithLineBreak,
    lineBreak: region.text.includes('\r\n') || (region.text === '' && text.includes('\r\n')) ? '\r\n' : '\n',
    before,
    after,
    atFileStart: beforeStart === 0,
    lineAbove,
    lineBelow,
  };
}

/** Text with `\r\n` line breaks turned into `\n`. */
export function toLf(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n/g, '\n') : text;
}

function withoutFinalLineBreak(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  return text.endsWith('\n') ? text.slice(0, -1) : text;
}

/**
 * The code excerpt with the region marked, as Zeta, Instinct and the generic format show it: context above, the start
 * marker on its own line, the region, the end marker on its own line, context below.
 */
export function markedExcerpt(layout: NextEditLayout, region: string): string {
  const above = layout.before === '' ? '' : `${layout.before}\n`;
  const below = layout.after === '' ? '' : `\n${layout.after}`;
  return `${above}${REGION_START_MARKER}\n${region}\n${REGION_END_MARKER}${below}`;
}

/** The before (context and removed lines) and after (context and added lines) text of a unified diff's hunks. */
export function diffSides(diff: string): { readonly before: string; readonly after: string } {
  const before: string[] = [];
  const after: string[] = [];
  for (const line of withoutFileHeader(diff.split('\n'))) {
    if (line.startsWith('@@') || line.startsWith('\\')) continue;
    if (line.startsWith('-')) before.push(line.slice(1));
    else if (line.startsWith('+')) after.push(line.slice(1));
    else if (line.startsWith(' ')) {
      before.push(line.slice(1));
      after.push(line.slice(1));
    }
  }
  return { before: before.join('\n'), after: after.join('\n') };
}

/** A unified diff without its `---`/`+++` file header lines (formats that name the file in their own words). */
export function diffHunks(diff: string): string {
  return withoutFileHeader(diff.split('\n')).join('\n').replace(/\n+$/, '');
}

/** The lines after the `---`/`+++` header (only there: a removed line `-- x` also starts with `---`). */
function withoutFileHeader(lines: readonly string[]): readonly string[] {
  return lines[0]?.startsWith('--- ') === true && lines[1]?.startsWith('+++ ') === true ? lines.slice(2) : lines;
}
