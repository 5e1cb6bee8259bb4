import { describe, expect, it } from 'vitest';
import { diffLines, reviewMarks } from '../../../../src/core/refactor/lineDiff';

/** Applies a diff's ops to rebuild the new lines from the old (checks the script is a valid edit script). */
function rebuild(oldLines: readonly string[], newLines: readonly string[]): { rebuilt: string[]; edits: number } {
  const rebuilt: string[] = [];
  let edits = 0;
  for (const op of diffLines(oldLines, newLines)) {
    if (op.kind === 'same') {
      expect(oldLines[op.oldIndex]).toBe(newLines[op.newIndex]);
      rebuilt.push(oldLines[op.oldIndex] ?? '');
    } else if (op.kind === 'added') {
      rebuilt.push(newLines[op.newIndex] ?? '');
      edits += 1;
    } else {
      edits += 1;
    }
  }
  return { rebuilt, edits };
}

describe('diffLines', () => {
  it('finds a shortest edit script', () => {
    const a = 'a b c a b b a'.split(' ');
    const b = 'c b a b a c'.split(' ');
    const { rebuilt, edits } = rebuild(a, b);
    expect(rebuilt).toEqual(b);
    expect(edits).toBe(5); // the classic Myers example: D = 5
  });

  it('rebuilds the new text for random inputs', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let round = 0; round < 200; round += 1) {
      const a = Array.from({ length: Math.floor(random() * 12) }, () => 'xyz'.charAt(Math.floor(random() * 3)));
      const b = Array.from({ length: Math.floor(random() * 12) }, () => 'xyz'.charAt(Math.floor(random() * 3)));
      expect(rebuild(a, b).rebuilt).toEqual(b);
    }
  });

  it('falls back to remove-all/add-all past the edit limit', () => {
    const a = Array.from({ length: 50 }, (_, i) => `old${i}`);
    const b = Array.from({ length: 50 }, (_, i) => `new${i}`);
    const ops = diffLines(a, b, 10);
    expect(ops.filter((op) => op.kind === 'removed')).toHaveLength(50);
    expect(ops.filter((op) => op.kind === 'added')).toHaveLength(50);
  });
});

describe('reviewMarks', () => {
  it('marks added lines and where removed lines were', () => {
    const original = 'function f(a) {\n  var b = a + 1;\n  return b;\n}';
    const updated = 'function f(a: number): number {\n  return a + 1;\n}';
    const marks = reviewMarks(original, updated);
    expect(marks.addedLines).toEqual([0, 1]);
    expect(marks.removedBlocks).toEqual([
      { beforeNewLine: 0, lines: ['function f(a) {', '  var b = a + 1;', '  return b;'] },
    ]);
  });

  it('puts removed lines at the end past the last new line', () => {
    const marks = reviewMarks('a\nb\nc', 'a');
    expect(marks.addedLines).toEqual([]);
    expect(marks.removedBlocks).toEqual([{ beforeNewLine: 1, lines: ['b', 'c'] }]);
  });

  it('ignores carriage returns', () => {
    expect(reviewMarks('a\r\nb', 'a\nb')).toEqual({ addedLines: [], removedBlocks: [] });
  });
});
