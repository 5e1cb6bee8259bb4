/** A 0-based line and column (UTF-16 code units), as editors count them. */
export interface LineColumn {
  readonly line: number;
  readonly column: number;
}

/**
 * Converts offsets in a text with `\n` line ends into line/column positions. Positions do not depend on the line-end
 * style, so they apply unchanged to a CRLF document whose text was normalised to `\n`.
 */
export function lineColumnAt(text: string, offset: number): LineColumn {
  let line = 0;
  let lineStart = 0;
  for (let index = text.indexOf('\n'); index >= 0 && index < offset; index = text.indexOf('\n', index + 1)) {
    line += 1;
    lineStart = index + 1;
  }
  return { line, column: offset - lineStart };
}
