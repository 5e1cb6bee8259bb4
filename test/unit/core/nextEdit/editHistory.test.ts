import { describe, expect, it } from 'vitest';
import { EditHistory, MAX_HISTORY_ENTRIES, type TextChange } from '../../../../src/core/nextEdit/editHistory';

const SOURCE = [
  'function total(items) {',
  '  let sum = 0;',
  '  for (const item of items) {',
  '    sum += item.price;',
  '  }',
  '  return sum;',
  '}',
  '',
  'function average(items) {',
  '  return total(items) / items.length;',
  '}',
  '',
].join('\n');

/** A history following one document, with a helper that applies changes to the caller's text too. */
function follow(text: string) {
  const history = new EditHistory();
  let current = text;
  history.opened('doc', 'src/total.js', text);
  let now = 0;
  return {
    history,
    text: () => current,
    change(changes: readonly TextChange[]) {
      for (const change of [...changes].sort((a, b) => b.offset - a.offset)) {
        current = current.slice(0, change.offset) + change.text + current.slice(change.offset + change.length);
      }
      now += 100;
      return history.changed('doc', changes, now, () => current);
    },
    type(offset: number, word: string) {
      for (let index = 0; index < word.length; index++)
        this.change([{ offset: offset + index, length: 0, text: word[index] ?? '' }]);
    },
  };
}

describe('EditHistory', () => {
  it('coalesces a word typed character by character into one diff', () => {
    const doc = follow(SOURCE);
    const at = SOURCE.indexOf('sum = 0');
    doc.change([{ offset: at, length: 3, text: '' }]);
    doc.type(at, 'subtotal');
    const diffs = doc.history.diffs(10);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]).toEqual({
      path: 'src/total.js',
      diff: [
        '--- a/src/total.js',
        '+++ b/src/total.js',
        '@@ -1,4 +1,4 @@',
        ' function total(items) {',
        '-  let sum = 0;',
        '+  let subtotal = 0;',
        '   for (const item of items) {',
        '     sum += item.price;',
        '',
      ].join('\n'),
    });
  });

  it('merges edits within two lines of the hunk, keeping the first before-lines and the latest after-lines', () => {
    const doc = follow(SOURCE);
    doc.change([{ offset: SOURCE.indexOf('sum = 0'), length: 3, text: 'acc' }]);
    const text = doc.text();
    doc.change([{ offset: text.indexOf('sum += '), length: 3, text: 'acc' }]);
    const diffs = doc.history.diffs(10);
    expect(diffs).toHaveLength(1);
    expect(diffs[0]?.diff).toBe(
      [
        '--- a/src/total.js',
        '+++ b/src/total.js',
        '@@ -1,6 +1,6 @@',
        ' function total(items) {',
        '-  let sum = 0;',
        '+  let acc = 0;',
        '   for (const item of items) {',
        '-    sum += item.price;',
        '+    acc += item.price;',
        '   }',
        '   return sum;',
        '',
      ].join('\n'),
    );
  });

  it('keeps two far-apart edits as two entries, oldest first and newest last, and honours maxEdits', () => {
    const doc = follow(SOURCE);
    doc.change([{ offset: SOURCE.indexOf('sum = 0'), length: 3, text: 'acc' }]);
    const text = doc.text();
    doc.change([{ offset: text.indexOf('items.length'), length: 5, text: 'list' }]);
    const diffs = doc.history.diffs(10);
    expect(diffs).toHaveLength(2);
    expect(diffs[0]?.diff).toContain('+  let acc = 0;');
    expect(diffs[1]?.diff).toContain('@@ -8,4 +8,4 @@');
    expect(diffs[1]?.diff).toContain('+  return total(items) / list.length;');
    expect(doc.history.diffs(1)).toEqual([diffs[1]]);
    expect(doc.history.diffs(0)).toEqual([]);
  });

  it('drops a hunk whose edits cancel out', () => {
    const doc = follow(SOURCE);
    const at = SOURCE.indexOf('sum = 0');
    doc.type(at, 'xy');
    doc.change([{ offset: at, length: 2, text: '' }]);
    expect(doc.history.diffs(10)).toEqual([]);
  });

  it('records a line break inserted and a line removed with their own line counts', () => {
    const doc = follow(SOURCE);
    const lineEnd = SOURCE.indexOf('\n', SOURCE.indexOf('let sum'));
    expect(doc.change([{ offset: lineEnd, length: 0, text: '\n  let count = 0;' }])).toBe('structural');
    expect(doc.history.diffs(1)[0]?.diff).toContain(
      '@@ -1,4 +1,5 @@\n function total(items) {\n   let sum = 0;\n+  let count = 0;\n',
    );
    const removed = new EditHistory();
    removed.opened('doc', 'a.js', 'a\nb\nc\nd\n');
    removed.changed('doc', [{ offset: 2, length: 2, text: '' }], 1, () => 'a\nc\nd\n');
    expect(removed.diffs(1)[0]?.diff).toBe('--- a/a.js\n+++ b/a.js\n@@ -1,4 +1,3 @@\n a\n-b\n c\n d\n');
  });

  it('applies several changes of one event from the highest offset down, whatever order they come in', () => {
    const text = 'const a = 1;\nuse(a);\nuse(a, a);\n';
    const doc = follow(text);
    const offsets = [...text.matchAll(/\ba\b/g)].map((match) => match.index);
    const trigger = doc.change(offsets.map((offset) => ({ offset, length: 1, text: 'alpha' })));
    expect(trigger).toBe('structural');
    expect(doc.text()).toBe('const alpha = 1;\nuse(alpha);\nuse(alpha, alpha);\n');
    const diff = doc.history
      .diffs(10)
      .map((entry) => entry.diff)
      .join('');
    expect(diff).toContain('+use(alpha, alpha);');
    expect(diff).toContain('-const a = 1;');
  });

  it('resyncs from the document when a change does not fit its copy, recording nothing for that event', () => {
    const history = new EditHistory();
    history.opened('doc', 'a.js', 'short');
    const trigger = history.changed('doc', [{ offset: 40, length: 2, text: 'x' }], 1, () => 'the real text now');
    expect(trigger).toBe('typing');
    expect(history.diffs(5)).toEqual([]);
    history.changed('doc', [{ offset: 0, length: 3, text: 'THE' }], 2, () => 'THE real text now');
    expect(history.diffs(5)[0]?.diff).toContain('-the real text now\n+THE real text now');
  });

  it('ignores documents it was not given, and forgets a closed one', () => {
    const history = new EditHistory();
    expect(history.changed('unseen', [{ offset: 0, length: 0, text: 'x' }], 1, () => 'secret x')).toBeNull();
    history.opened('doc', 'a.js', 'abc');
    history.closed('doc');
    expect(history.changed('doc', [{ offset: 0, length: 0, text: 'x' }], 1, () => 'xabc')).toBeNull();
    expect(history.diffs(5)).toEqual([]);
  });

  it('keeps at most MAX_HISTORY_ENTRIES hunks, dropping the oldest', () => {
    const lines = Array.from({ length: 400 }, (_, index) => `value${index}`);
    const history = new EditHistory();
    let text = `${lines.join('\n')}\n`;
    history.opened('doc', 'big.txt', text);
    for (let edit = 0; edit < MAX_HISTORY_ENTRIES + 10; edit++) {
      const offset = text.indexOf(`value${edit * 5}\n`);
      history.changed('doc', [{ offset, length: 0, text: 'X' }], edit, () => text);
      text = `${text.slice(0, offset)}X${text.slice(offset)}`;
    }
    const diffs = history.diffs(1000);
    expect(diffs).toHaveLength(MAX_HISTORY_ENTRIES);
    expect(diffs[0]?.diff).toContain('+Xvalue50');
    expect(diffs.at(-1)?.diff).toContain(`+Xvalue${(MAX_HISTORY_ENTRIES + 9) * 5}`);
  });

  it('cuts very long lines in the diffs and drops entries older than 30 minutes when given the time', () => {
    const history = new EditHistory();
    const long = 'x'.repeat(5_000);
    history.opened('doc', 'min.js', long);
    history.changed('doc', [{ offset: 0, length: 0, text: 'y' }], 0, () => `y${long}`);
    const diff = history.diffs(1)[0]?.diff ?? '';
    expect(diff.length).toBeLessThan(1_000);
    expect(diff).toContain('…');
    expect(history.diffs(5, 31 * 60 * 1000)).toEqual([]);
    expect(history.diffs(5, 60 * 1000)).toHaveLength(1);
  });

  it('strips the \\r of CRLF lines in its diffs', () => {
    const history = new EditHistory();
    history.opened('doc', 'w.txt', 'one\r\ntwo\r\n');
    history.changed('doc', [{ offset: 5, length: 3, text: 'TWO' }], 1, () => 'one\r\nTWO\r\n');
    expect(history.diffs(1)[0]?.diff).toBe('--- a/w.txt\n+++ b/w.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n');
  });
});

describe('EditHistory trigger classification', () => {
  const text = 'call(first, second);\nnext();\n';
  const rows: { name: string; changes: TextChange[]; trigger: string | null }[] = [
    { name: 'one character typed', changes: [{ offset: 4, length: 0, text: 'X' }], trigger: 'typing' },
    { name: 'one character deleted', changes: [{ offset: 5, length: 1, text: '' }], trigger: 'typing' },
    { name: 'one character typed over a selection', changes: [{ offset: 5, length: 4, text: 'y' }], trigger: 'typing' },
    {
      name: 'several changes (rename)',
      changes: [
        { offset: 0, length: 4, text: 'f' },
        { offset: 21, length: 4, text: 'g' },
      ],
      trigger: 'structural',
    },
    { name: 'line break inserted', changes: [{ offset: 20, length: 0, text: '\n' }], trigger: 'structural' },
    { name: 'line break removed', changes: [{ offset: 20, length: 1, text: '' }], trigger: 'structural' },
    { name: 'comma deleted', changes: [{ offset: 10, length: 1, text: '' }], trigger: 'structural' },
    { name: 'whole argument deleted', changes: [{ offset: 12, length: 6, text: '' }], trigger: 'structural' },
    { name: 'paste over a selection', changes: [{ offset: 5, length: 5, text: 'alpha' }], trigger: 'structural' },
    { name: 'same text put back', changes: [{ offset: 0, length: 4, text: 'call' }], trigger: null },
    { name: 'new code typed at the end of a line', changes: [{ offset: 20, length: 0, text: ' ' }], trigger: null },
    { name: 'new code typed on an empty last line', changes: [{ offset: 29, length: 0, text: 'x' }], trigger: null },
    { name: 'one character typed before the end', changes: [{ offset: 19, length: 0, text: 'X' }], trigger: 'typing' },
    { name: 'empty event', changes: [], trigger: null },
  ];
  it.each(rows)('$name -> $trigger', ({ changes, trigger }) => {
    const history = new EditHistory();
    history.opened('doc', 'a.js', text);
    expect(history.changed('doc', changes, 1, () => text)).toBe(trigger);
  });
});
