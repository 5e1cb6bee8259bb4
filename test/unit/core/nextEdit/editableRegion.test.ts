import { describe, expect, it } from 'vitest';
import { editableRegion, estimateRegionTokens } from '../../../../src/core/nextEdit/editableRegion';

const TEN_LINES = Array.from({ length: 10 }, (_, index) => `line ${index}`).join('\n') + '\n';

/** The offset of `column` on 0-based line `line`. */
function offsetOf(text: string, line: number, column = 0): number {
  let offset = 0;
  for (let index = 0; index < line; index++) offset = text.indexOf('\n', offset) + 1;
  return offset + column;
}

describe('editableRegion', () => {
  it('takes whole lines around the cursor and keeps the cursor offset within the region', () => {
    const cursor = offsetOf(TEN_LINES, 5, 3);
    const region = editableRegion(TEN_LINES, cursor, 2);
    expect(region).toMatchObject({ startLine: 3, endLine: 8, text: 'line 3\nline 4\nline 5\nline 6\nline 7\n' });
    expect(TEN_LINES.slice(region.start, region.end)).toBe(region.text);
    expect(region.start + region.cursorOffset).toBe(cursor);
  });

  it('is clipped at the start of the file', () => {
    const region = editableRegion(TEN_LINES, offsetOf(TEN_LINES, 1, 2), 3);
    expect(region).toMatchObject({ start: 0, startLine: 0, endLine: 5 });
    expect(region.text).toBe('line 0\nline 1\nline 2\nline 3\nline 4\n');
  });

  it('is clipped at the end of the file, counting the empty line after a final line break', () => {
    const region = editableRegion(TEN_LINES, offsetOf(TEN_LINES, 9, 1), 3);
    expect(region).toMatchObject({ startLine: 6, endLine: 11, end: TEN_LINES.length });
    expect(region.text).toBe('line 6\nline 7\nline 8\nline 9\n');
  });

  it('ends at the end of the text when the last line has no line break', () => {
    const text = 'a\nb\nc';
    const region = editableRegion(text, 4, 1);
    expect(region).toMatchObject({ start: 2, end: 5, startLine: 1, endLine: 3, text: 'b\nc', cursorOffset: 2 });
  });

  it('handles a cursor on the empty last line and a file starting with a blank line', () => {
    expect(editableRegion('a\n', 2, 1)).toMatchObject({ start: 0, end: 2, startLine: 0, endLine: 2, cursorOffset: 2 });
    expect(editableRegion('\nx\ny\n', 0, 1)).toMatchObject({
      start: 0,
      end: 3,
      startLine: 0,
      endLine: 2,
      text: '\nx\n',
    });
  });

  it('keeps CRLF line breaks whole, the region ending after the \\r\\n', () => {
    const text = 'one\r\ntwo\r\nthree\r\nfour\r\n';
    const region = editableRegion(text, text.indexOf('three') + 2, 1);
    expect(region.text).toBe('two\r\nthree\r\nfour\r\n');
    expect(region).toMatchObject({ startLine: 1, endLine: 4, cursorOffset: 'two\r\n'.length + 2 });
  });

  it('clamps a cursor outside the text, and takes only the cursor line with 0 lines around', () => {
    expect(editableRegion(TEN_LINES, -5, 0)).toMatchObject({ start: 0, text: 'line 0\n', cursorOffset: 0 });
    expect(editableRegion('abc', 99, 0)).toMatchObject({ start: 0, end: 3, cursorOffset: 3 });
  });

  it('estimates tokens as characters / 4, rounded up', () => {
    expect(estimateRegionTokens(editableRegion('abcde', 0, 0))).toBe(2);
  });
});
