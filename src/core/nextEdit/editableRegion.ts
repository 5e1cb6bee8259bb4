import type { EditableRegion } from './nextEditTypes';

/**
 * The editable region around the cursor: whole lines from `linesAround` above the cursor's line to `linesAround` below
 * it, clipped to the document. The region ends after its last line's line break (`\n` or `\r\n`), or at the end of the
 * text when that line has none. Lines are counted as an editor counts them: a text ending in a line break has an empty
 * last line after it.
 */
export function editableRegion(text: string, cursorOffset: number, linesAround: number): EditableRegion {
  const cursor = Math.max(0, Math.min(text.length, Math.floor(cursorOffset)));
  const around = Math.max(0, Math.floor(linesAround));
  // A cursor between `\r` and `\n` belongs to the line the `\r` ends.
  const cursorLineStart = lineStartAt(text, cursor);
  const cursorLine = countLineBreaks(text, 0, cursorLineStart);

  let start = cursorLineStart;
  let linesAbove = 0;
  while (linesAbove < around && start > 0) {
    start = lineStartAt(text, start - 1);
    linesAbove++;
  }

  let end = cursorLineStart;
  let lastLine = cursorLine;
  for (;;) {
    const lineBreak = text.indexOf('\n', end);
    if (lineBreak === -1) {
      end = text.length;
      break;
    }
    end = lineBreak + 1;
    // The line after this break exists (possibly empty at the end of the text), but the region stops here when full.
    if (lastLine - cursorLine >= around) break;
    lastLine++;
    if (end === text.length) {
      // The empty last line after a final line break adds no text; its line still counts.
      break;
    }
  }

  return {
    start,
    end,
    startLine: cursorLine - linesAbove,
    endLine: lastLine + 1,
    text: text.slice(start, end),
    cursorOffset: cursor - start,
  };
}

/**
 * A cheap estimate of the region's size in tokens: characters / 4, rounded up. Deliberately not a tokenizer, so the
 * latency budget can be checked on every trigger without loading one; code averages about 3.5-4.5 characters a token.
 */
export function estimateRegionTokens(region: EditableRegion): number {
  return Math.ceil(region.text.length / 4);
}

/** The offset where the line holding `offset` starts. (`lastIndexOf` treats a negative start as 0, hence the guard.) */
function lineStartAt(text: string, offset: number): number {
  return offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
}

/** Line breaks (`\n`) in `text` from `from` up to `to`: how many lines lie between two offsets. */
export function countLineBreaks(text: string, from: number, to: number): number {
  let count = 0;
  let at = text.indexOf('\n', from);
  while (at !== -1 && at < to) {
    count++;
    at = text.indexOf('\n', at + 1);
  }
  return count;
}
