import { describe, expect, it } from 'vitest';
import { StreamingRegionDiff } from '../../../../src/core/nextEdit/streamingRegionDiff';
import type { EditableRegion, PredictedHunk } from '../../../../src/core/nextEdit/nextEditTypes';

/** The region of `text` from line `startLine` to `endLine` (exclusive), as the engine would cut it. */
function regionOf(text: string, startLine: number, endLine: number): EditableRegion {
  const lineStarts = [0];
  for (let index = 0; index < text.length; index += 1) if (text[index] === '\n') lineStarts.push(index + 1);
  const start = lineStarts[startLine] ?? text.length;
  const end = lineStarts[endLine] ?? text.length;
  return { start, end, startLine, endLine, text: text.slice(start, end), cursorOffset: 0 };
}

/** A whole-text region. */
function whole(text: string): EditableRegion {
  return { start: 0, end: text.length, startLine: 0, endLine: text.split('\n').length, text, cursorOffset: 0 };
}

interface Run {
  /** What each push returned, by push index. */
  readonly pushed: (readonly PredictedHunk[])[];
  readonly result: ReturnType<StreamingRegionDiff['end']>;
  readonly diff: StreamingRegionDiff;
}

function feed(region: EditableRegion, chunks: readonly string[]): Run {
  const diff = new StreamingRegionDiff(region);
  const pushed = chunks.map((chunk) => diff.push(chunk));
  return { pushed, result: diff.end(), diff };
}

function chunked(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let index = 0; index < text.length; index += size) chunks.push(text.slice(index, index + size));
  return chunks;
}

function okHunks(run: Run): readonly PredictedHunk[] {
  if (!run.result.ok) throw new Error(`rejected: ${run.result.why}`);
  return run.result.hunks;
}

function apply(text: string, hunks: readonly PredictedHunk[]): string {
  let out = text;
  for (const hunk of [...hunks].reverse()) out = out.slice(0, hunk.start) + hunk.newText + out.slice(hunk.end);
  return out;
}

/** Seeded so a failure repeats. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

function randomChunks(text: string, random: () => number): string[] {
  const chunks: string[] = [];
  let index = 0;
  while (index < text.length) {
    const size = 1 + Math.floor(random() * 12);
    chunks.push(text.slice(index, index + size));
    index += size;
  }
  return chunks;
}

const TOTAL = [
  'function total(items) {',
  '  let count = 0;',
  '  for (const item of items) {',
  '    count += item.price;',
  '  }',
  '  log(count);',
  '  return count;',
  '}',
  '',
  'function other() {',
  '  return 1;',
  '}',
  '',
].join('\n');

describe('StreamingRegionDiff: hunks as the stream passes them', () => {
  it('returns the first hunk before the stream ends, on the push that re-joins the original', () => {
    const answer = TOTAL.replace(/count/g, 'sum');
    const chunks = chunked(answer, 4);
    const run = feed(whole(TOTAL), chunks);
    const firstIndex = run.pushed.findIndex((hunks) => hunks.length > 0);
    // Eight characters of the line after the declaration, past its indentation ("  for (con"), re-join the
    // original: the push that brings the last of them confirms the hunk.
    const rejoinedAt = answer.indexOf('  for (con') + '  for (con'.length;
    expect(firstIndex).toBe(Math.ceil(rejoinedAt / 4) - 1);
    expect(run.pushed[firstIndex]).toEqual([{ start: 30, end: 35, oldText: 'count', newText: 'sum' }]);
    expect(firstIndex).toBeLessThan(chunks.length - 10);
  });

  it('a rename of several uses gives one hunk per use, each just the names', () => {
    const answer = TOTAL.replace(/count/g, 'sum');
    const hunks = okHunks(feed(whole(TOTAL), chunked(answer, 7)));
    expect(hunks).toHaveLength(4);
    for (const hunk of hunks) {
      expect(hunk).toMatchObject({ oldText: 'count', newText: 'sum' });
      expect(TOTAL.slice(hunk.start, hunk.end)).toBe('count');
    }
    expect(apply(TOTAL, hunks)).toBe(answer);
  });

  it('two renames on one line give two hunks', () => {
    const text = 'const a = 1;\nconst total = compute(count, 2);\nreturn total;\n';
    const answer = 'const a = 1;\nconst sum = compute(n, 2);\nreturn total;\n';
    const hunks = okHunks(feed(whole(text), [answer]));
    expect(hunks.map((hunk) => [hunk.oldText, hunk.newText])).toEqual([
      ['total', 'sum'],
      ['count', 'n'],
    ]);
    expect(apply(text, hunks)).toBe(answer);
  });

  it('shows inserted lines as an insertion, and deleted lines as a deletion, before the end', () => {
    const inserted = TOTAL.replace('  log(count);\n', '  log(count);\n  audit(items, count);\n');
    const insertRun = feed(whole(TOTAL), chunked(inserted, 5));
    const firstInsert = insertRun.pushed.flat();
    expect(firstInsert).toEqual([
      {
        start: TOTAL.indexOf('  return count'),
        end: TOTAL.indexOf('  return count'),
        oldText: '',
        newText: '  audit(items, count);\n',
      },
    ]);
    expect(apply(TOTAL, okHunks(insertRun))).toBe(inserted);

    const deleted = TOTAL.replace('  log(count);\n', '');
    const deleteRun = feed(whole(TOTAL), chunked(deleted, 5));
    const start = TOTAL.indexOf('  log(count)');
    expect(deleteRun.pushed.flat()).toEqual([{ start, end: start + 14, oldText: '  log(count);\n', newText: '' }]);
    expect(apply(TOTAL, okHunks(deleteRun))).toBe(deleted);
  });

  it('does not re-join on a lone closing brace that belongs to new code', () => {
    const text = ['function f(a) {', '  one();', '  if (a) {', '    two();', '  }', '  three();', '}', ''].join('\n');
    // `one();` is wrapped in a new block whose `  }` equals the original line 4: re-joining there would delete
    // `if (a) { two();` and write it again.
    const answer = [
      'function f(a) {',
      '  if (b) {',
      '    one();',
      '  }',
      '  if (a) {',
      '    two();',
      '  }',
      '  three();',
      '}',
      '',
    ].join('\n');
    for (const chunks of [[answer], chunked(answer, 1), chunked(answer, 3)]) {
      const run = feed(whole(text), chunks);
      const hunks = okHunks(run);
      expect(hunks.some((hunk) => hunk.oldText.includes('two'))).toBe(false);
      expect(run.pushed.flat()).toEqual(hunks);
      expect(apply(text, hunks)).toBe(answer);
    }
  });

  it('re-joins on two trivial lines in a row', () => {
    const text = ['  if (a) {', '    run(a);', '  }', '}', '', 'next();', ''].join('\n');
    const answer = ['  if (a) {', '    run(b);', '  }', '}', '', 'next();', ''].join('\n');
    const run = feed(whole(text), chunked(answer, 1));
    // Confirmed once `}` follows `  }`, before the rest arrives.
    const confirmedAt = run.pushed.findIndex((hunks) => hunks.length > 0);
    expect(confirmedAt).toBe(answer.indexOf('}\n\nnext') + 1);
    expect(okHunks(run)).toEqual([{ start: 19, end: 20, oldText: 'a', newText: 'b' }]);
  });

  it('gives the same hunks whatever the chunking', () => {
    const answers = [
      TOTAL.replace(/count/g, 'sum'),
      TOTAL.replace('  log(count);\n', '  log(count);\n  audit(items, count);\n').replace('return 1', 'return 2'),
      TOTAL.replace('  for (const item of items) {\n    count += item.price;\n  }\n', '  count = sum(items);\n'),
      TOTAL.replace('function other() {\n  return 1;\n}\n', ''),
      `// header\n${TOTAL}`,
    ];
    const random = seededRandom(11);
    for (const answer of answers) {
      const expected = okHunks(feed(whole(TOTAL), [answer]));
      expect(apply(TOTAL, expected)).toBe(answer);
      for (const chunks of [chunked(answer, 1), randomChunks(answer, random), randomChunks(answer, random)]) {
        const run = feed(whole(TOTAL), chunks);
        expect(okHunks(run)).toEqual(expected);
        // Everything push returned is the start of the final list, in order.
        const pushed = run.pushed.flat();
        expect(expected.slice(0, pushed.length)).toEqual(pushed);
      }
    }
  });

  it('reports an answer equal to the original as unchanged, with no hunks', () => {
    const run = feed(whole(TOTAL), chunked(TOTAL, 3));
    expect(run.pushed.flat()).toEqual([]);
    expect(run.result).toEqual({ ok: true, hunks: [], unchanged: true });
  });
});

describe('StreamingRegionDiff: line breaks', () => {
  it('writes an LF answer to a CRLF region in CRLF: only the renamed words change', () => {
    const text = TOTAL.replace(/\n/g, '\r\n');
    const hunks = okHunks(feed(whole(text), chunked(TOTAL.replace(/count/g, 'sum'), 4)));
    expect(hunks.map((hunk) => hunk.newText)).toEqual(['sum', 'sum', 'sum', 'sum']);
    expect(apply(text, hunks)).toBe(text.replace(/count/g, 'sum'));
  });

  it('keeps the region’s last line break when the answer leaves it out', () => {
    const text = 'a();\nb(1);\nc();\n';
    const hunks = okHunks(feed(regionOf(text, 0, 2), ['a();\nb(2);']));
    expect(hunks).toEqual([{ start: 7, end: 8, oldText: '1', newText: '2' }]);
  });

  it('adds no line break at the end of a file that has none', () => {
    const text = 'a();\nb(1);\nc();';
    const hunks = okHunks(feed(regionOf(text, 1, 3), ['b(2);\nc();\n']));
    expect(apply(text, hunks)).toBe('a();\nb(2);\nc();');
  });
});

describe('StreamingRegionDiff: rejections', () => {
  const long = Array.from({ length: 12 }, (_, index) => `  step${index}(value, ${index});\n`).join('');

  it('rejects an empty or blank answer as a dropped region', () => {
    expect(feed(whole(long), []).result).toEqual({ ok: false, why: 'drops-region' });
    expect(feed(whole(long), ['\n\n  \n']).result).toEqual({ ok: false, why: 'drops-region' });
  });

  it('rejects an answer of only the changed line as a dropped region', () => {
    expect(feed(whole(long), ['  step4(other, 4);\n']).result).toEqual({ ok: false, why: 'drops-region' });
    // One kept line beside the changed one is still a snippet, not the region.
    expect(feed(whole(long), ['  step4(other, 4);\n  step5(value, 5);\n']).result).toEqual({
      ok: false,
      why: 'drops-region',
    });
  });

  it('accepts deletions that keep what survives verbatim, even most of the region', () => {
    const lines = long.split('\n');
    const fewDeleted = [...lines.slice(0, 3), ...lines.slice(5)].join('\n');
    expect(apply(long, okHunks(feed(whole(long), [fewDeleted])))).toBe(fewDeleted);
    const mostDeleted = [...lines.slice(0, 2), ...lines.slice(11)].join('\n');
    expect(apply(long, okHunks(feed(whole(long), chunked(mostDeleted, 4))))).toBe(mostDeleted);
  });

  it('flags a repeated region as overrun while it streams, and rejects it at the end', () => {
    const repeated = long.replace('value, 3', 'other, 3') + long;
    const diff = new StreamingRegionDiff(whole(long));
    let overrunAt = -1;
    chunked(repeated, 4).forEach((chunk, index) => {
      diff.push(chunk);
      if (diff.overrun && overrunAt < 0) overrunAt = index * 4;
    });
    // Half of the region's twelve lines written a second time is enough: well before the copy ends.
    expect(overrunAt).toBeGreaterThan(long.length);
    expect(overrunAt).toBeLessThan(long.length + long.length / 2 + 30);
    expect(diff.end()).toEqual({ ok: false, why: 'repeats-region' });
  });

  it('flags an answer running past twice the region plus 200 characters', () => {
    const text = 'x = 1;\ny = 2;\n';
    const diff = new StreamingRegionDiff(whole(text));
    diff.push('x = 1;\ny = 2;\n');
    expect(diff.overrun).toBe(false);
    diff.push(`// ${'z'.repeat(220)}\n`);
    expect(diff.overrun).toBe(true);
    expect(diff.end()).toEqual({ ok: false, why: 'repeats-region' });
  });

  it('is not fooled by a line or two written twice', () => {
    const twice = long.replace('  step2(value, 2);\n', '  step2(value, 2);\n  step2(value, 2);\n');
    expect(apply(long, okHunks(feed(whole(long), [twice])))).toBe(twice);
  });
});

describe('StreamingRegionDiff: applying the hunks gives the answer (generated cases)', () => {
  const random = seededRandom(2024);
  const pick = <T>(items: readonly T[]): T => {
    const item = items[Math.floor(random() * items.length)];
    if (item === undefined) throw new Error('empty');
    return item;
  };
  const names = ['a', 'b', 'count', 'total', 'item', 'value'];
  const templates: (() => string)[] = [
    () => `  const ${pick(names)} = ${pick(names)} + ${Math.floor(random() * 3)};`,
    () => `  return ${pick(names)};`,
    () => '}',
    () => '  }',
    () => '',
    () => `function ${pick(names)}(${pick(names)}) {`,
    () => `  if (${pick(names)}) {`,
    () => `    ${pick(names)}(${pick(names)}, ${pick(names)});`,
  ];
  let unique = 0;
  const fresh = (): string => `    fresh${(unique += 1)}(${pick(names)});`;

  interface Case {
    readonly text: string;
    readonly region: EditableRegion;
    readonly answer: string;
    readonly renameOnly: { readonly from: string; readonly to: string } | null;
  }

  function generate(): Case {
    const lineBreak = random() < 0.3 ? '\r\n' : '\n';
    const lines = Array.from({ length: 3 + Math.floor(random() * 30) }, () => pick(templates)());
    const finalBreak = random() < 0.7;
    const text = lines.join(lineBreak) + (finalBreak ? lineBreak : '');
    const startLine = random() < 0.2 ? 0 : Math.floor(random() * lines.length);
    const endLine = random() < 0.2 ? lines.length : Math.min(lines.length, startLine + 1 + Math.floor(random() * 20));
    const lineStarts = [0];
    for (let index = 0; index < text.length; index += 1) if (text[index] === '\n') lineStarts.push(index + 1);
    const start = lineStarts[startLine] ?? text.length;
    const end = endLine >= lines.length ? text.length : (lineStarts[endLine] ?? text.length);
    const region: EditableRegion = { start, end, startLine, endLine, text: text.slice(start, end), cursorOffset: 0 };
    // The region's own lines: a last line that is empty and has no break is not one.
    let newLines = region.text.split(lineBreak);
    if (region.text.endsWith(lineBreak) || region.text === '') newLines.pop();
    let renameOnly: Case['renameOnly'] = null;
    if (random() < 0.3) {
      const from = pick(names);
      const to = `renamed${(unique += 1)}`;
      newLines = newLines.map((line) => line.replace(new RegExp(`\\b${from}\\b`, 'g'), to));
      renameOnly = { from, to };
    } else {
      const operations = Math.floor(random() * 4);
      let deleted = 0;
      for (let operation = 0; operation < operations; operation += 1) {
        const at = Math.floor(random() * (newLines.length + 1));
        const kind = random();
        if (kind < 0.35) newLines.splice(at, 0, fresh(), ...(random() < 0.3 ? [fresh()] : []));
        else if (kind < 0.6 && at < newLines.length && deleted * 2 < endLine - startLine - 1) {
          newLines.splice(at, 1);
          deleted += 1;
        } else if (at < newLines.length) {
          const from = pick(names);
          newLines[at] = (newLines[at] ?? '').replace(new RegExp(`\\b${from}\\b`, 'g'), `changed${(unique += 1)}`);
        }
      }
    }
    const regionEndsWithBreak = region.text.endsWith('\n');
    const answer = newLines.join(lineBreak) + (regionEndsWithBreak && newLines.length > 0 ? lineBreak : '');
    return { text, region, answer, renameOnly };
  }

  it('rewrites the region to the answer exactly, whatever the chunking', () => {
    let dropped = 0;
    let renames = 0;
    for (let round = 0; round < 400; round += 1) {
      const testCase = generate();
      const { text, region, answer } = testCase;
      const label = JSON.stringify({ text, start: region.start, end: region.end, answer });
      const wholeRun = feed(region, [answer]);
      if (!wholeRun.result.ok) {
        // Only a region cut down to under a third of its non-blank lines may be rejected (as dropped).
        const nonBlank = (value: string): number => value.split('\n').filter((line) => line.trim() !== '').length;
        expect(wholeRun.result.why, label).toBe('drops-region');
        expect(nonBlank(answer) * 3, label).toBeLessThan(nonBlank(region.text));
        dropped += 1;
        continue;
      }
      const hunks = wholeRun.result.hunks;
      const expected = text.slice(0, region.start) + answer + text.slice(region.end);
      expect(apply(text, hunks), label).toBe(expected);
      hunks.forEach((hunk, index) => {
        expect(text.slice(hunk.start, hunk.end), label).toBe(hunk.oldText);
        expect(hunk.start, label).toBeGreaterThanOrEqual(index === 0 ? region.start : (hunks[index - 1]?.end ?? 0));
        expect(hunk.end, label).toBeLessThanOrEqual(region.end);
        expect(hunk.oldText === '' && hunk.newText === '', label).toBe(false);
      });
      expect(wholeRun.result.unchanged, label).toBe(answer === region.text);
      if (testCase.renameOnly !== null) {
        renames += 1;
        for (const hunk of hunks) {
          expect([hunk.oldText, hunk.newText], label).toEqual([testCase.renameOnly.from, testCase.renameOnly.to]);
        }
      }
      for (const chunks of [chunked(answer, 1), randomChunks(answer, random)]) {
        const run = feed(region, chunks);
        expect(okHunks(run), label).toEqual(hunks);
        expect(hunks.slice(0, run.pushed.flat().length), label).toEqual(run.pushed.flat());
      }
    }
    expect(dropped).toBeLessThan(20);
    expect(renames).toBeGreaterThan(50);
  });
});
