import type { RefactorPlacement } from './refactorPresets';
import type { OffsetRegion } from './regionTracking';
import { leadingWhitespace } from './reindent';

/** Where a refactor's answer goes in the document, and how to fit it there. */
export interface RegionPlan {
  /** The text the answer replaces (zero-length for an insertion). */
  readonly region: OffsetRegion;
  /** The code sent to the model (the selection; for an insertion, the code the answer goes below). */
  readonly code: string;
  /** 0-based lines of the code: `[startLine, endLine)`, for the surrounding context. */
  readonly startLine: number;
  readonly endLine: number;
  readonly baseIndent: string;
  readonly firstLineIndentPresent: boolean;
  /** Written before the first line of the answer (`\n` line ends). */
  readonly leadingText: string;
  /** Written after the last line of the answer: the final newline the replaced text ended with. */
  readonly trailingText: string;
}

/**
 * Plans where the answer for the code in `[start, end)` of `text` goes:
 * - a selection that starts inside a line's indentation is widened to the line start, so indentation is never split;
 * - a selection that starts after code on its line keeps that code; the answer's first line then gets no indentation;
 * - the replaced text's final newline is kept (the extractor drops the model's trailing newlines);
 * - `insertBelow` puts the answer after the last selected line, after a blank line, indented like the first.
 */
export function planRefactorRegion(text: string, start: number, end: number, placement: RefactorPlacement): RegionPlan {
  let from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  const lineStart = text.lastIndexOf('\n', from - 1) + 1;
  if (/^[ \t]*$/.test(text.slice(lineStart, from))) from = lineStart;
  const lineEndIndex = text.indexOf('\n', lineStart);
  const firstLine = text.slice(lineStart, lineEndIndex < 0 ? text.length : lineEndIndex);
  const baseIndent = leadingWhitespace(firstLine);
  const code = text.slice(from, to);
  const startLine = countNewlines(text, 0, from);
  const endsWithNewline = code.endsWith('\n');
  const endLine = startLine + countNewlines(code, 0, code.length) + (endsWithNewline ? 0 : 1);
  if (placement === 'insertBelow') {
    // After the last selected line's content (before its line end), so the blank line and answer follow it.
    const lastChar = endsWithNewline ? to - 1 : to;
    const newlineAt = text.indexOf('\n', lastChar);
    let insertAt = newlineAt < 0 ? text.length : newlineAt;
    if (insertAt > 0 && text.charAt(insertAt - 1) === '\r') insertAt -= 1;
    return {
      region: { offset: insertAt, length: 0 },
      code,
      startLine,
      endLine,
      baseIndent,
      firstLineIndentPresent: false,
      leadingText: '\n\n',
      trailingText: '',
    };
  }
  return {
    region: { offset: from, length: to - from },
    code,
    startLine,
    endLine,
    baseIndent,
    firstLineIndentPresent: from > lineStart,
    leadingText: '',
    trailingText: endsWithNewline ? '\n' : '',
  };
}

function countNewlines(text: string, from: number, to: number): number {
  let count = 0;
  for (let index = text.indexOf('\n', from); index >= 0 && index < to; index = text.indexOf('\n', index + 1))
    count += 1;
  return count;
}
