import { describe, expect, it } from 'vitest';
import {
  balanceBrackets,
  dropRepeatedFollowingLines,
  firstBlock,
  firstLine,
  keepIndentation,
  shownSuggestion,
  stopAtSuffixRepeat,
} from '../../../../src/core/inline/suggestionText';
import type { SuggestionContext } from '../../../../src/core/inline/suggestionText';

function context(partial: Partial<SuggestionContext>): SuggestionContext {
  return { linePrefix: '', lineSuffix: '', followingLines: [], multiline: false, maxLines: 20, tabSize: 4, ...partial };
}

describe('firstLine (single-line mode)', () => {
  const rows: { name: string; raw: string; done: boolean; text: string; complete: boolean }[] = [
    { name: 'partial line, stream running', raw: 'const x', done: false, text: 'const x', complete: false },
    { name: 'partial line, stream ended', raw: 'const x', done: true, text: 'const x', complete: true },
    { name: 'line ended', raw: 'const x = 1;\nfoo();', done: false, text: 'const x = 1;', complete: true },
    {
      name: 'leading newline runs to first non-blank line',
      raw: '\n    return 1;\n}',
      done: false,
      text: '\n    return 1;',
      complete: true,
    },
    { name: 'only blank lines so far', raw: '\n  \n', done: false, text: '\n  \n', complete: false },
    { name: 'empty stream ended', raw: '', done: true, text: '', complete: true },
  ];
  it.each(rows)('$name', ({ raw, done, text, complete }) => {
    expect(firstLine(raw, done)).toMatchObject({ text, complete });
  });
});

describe('firstBlock (multi-line mode): cut at the end of the block', () => {
  const rows: { name: string; linePrefix: string; raw: string; done: boolean; text: string; complete: boolean }[] = [
    {
      name: 'body after an opening brace ends with its closing brace',
      linePrefix: 'function f(a) {',
      raw: '\n  const b = a + 1;\n  return b;\n}\n\nfunction g() {',
      done: false,
      text: '\n  const b = a + 1;\n  return b;\n}',
      complete: true,
    },
    {
      name: 'statements on an empty indented line end at the dedent, closer not kept',
      linePrefix: '  ',
      raw: 'const b = 1;\n  return b;\n}\nexport {}',
      done: false,
      text: 'const b = 1;\n  return b;',
      complete: true,
    },
    {
      name: 'a blank line ends a balanced group of statements',
      linePrefix: '',
      raw: 'import a from "a";\nimport b from "b";\n\nconst c = 1;',
      done: false,
      text: 'import a from "a";\nimport b from "b";',
      complete: true,
    },
    {
      name: 'a blank line inside an opened block is kept',
      linePrefix: 'def f(x):',
      raw: '\n    y = x\n\n    return y\ndef g():',
      done: false,
      text: '\n    y = x\n\n    return y',
      complete: true,
    },
    {
      name: 'incomplete until the ending line has arrived',
      linePrefix: 'if (x) {',
      raw: '\n  a();\n  b();',
      done: false,
      text: '\n  a();',
      complete: false,
    },
    {
      name: 'a dedent on the line still arriving completes the block',
      linePrefix: '  ',
      raw: 'a();\n  b();\nexp',
      done: false,
      text: 'a();\n  b();',
      complete: true,
    },
    {
      name: 'stream end completes the block',
      linePrefix: 'if (x) {',
      raw: '\n  a();\n  b();',
      done: true,
      text: '\n  a();\n  b();',
      complete: true,
    },
    {
      name: 'a call spanning lines is a block that ends with its closing line',
      linePrefix: '  ',
      raw: 'foo(\n    1,\n  );\n  bar();\n}',
      done: false,
      text: 'foo(\n    1,\n  );',
      complete: true,
    },
  ];
  it.each(rows)('$name', ({ linePrefix, raw, done, text, complete }) => {
    expect(firstBlock(raw, done, context({ linePrefix, multiline: true }))).toMatchObject({ text, complete });
  });

  it('says how much raw text had to arrive to decide', () => {
    const ctx = context({ linePrefix: '  ', multiline: true });
    expect(firstBlock('a();\n  b();\n}\nmore', false, ctx).consumed).toBe('a();\n  b();\n}\n'.length);
    expect(firstBlock('a();\n  b();\nexp', false, ctx).consumed).toBe('a();\n  b();\ne'.length);
    expect(firstLine('abc\ndef', false).consumed).toBe(4);
  });

  it('stops at maxLines', () => {
    const raw = Array.from({ length: 30 }, (_, index) => `a${index}();`).join('\n');
    const result = firstBlock(raw, false, context({ multiline: true, maxLines: 3 }));
    expect(result).toEqual({ text: 'a0();\na1();\na2();', complete: true, consumed: 'a0();\na1();\na2();\n'.length });
  });
});

describe('cleanup steps', () => {
  // prettier-ignore
  const rows: { step: string; apply: (text: string, ctx: SuggestionContext) => string; text: string; ctx: Partial<SuggestionContext>; expected: string }[] = [
    { step: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat, text: 'a, b)', ctx: { lineSuffix: ')' }, expected: 'a, b' },
    { step: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat, text: 'x, y) {', ctx: { lineSuffix: ') {' }, expected: 'x, y' },
    { step: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat, text: 'foo(x)', ctx: { lineSuffix: ')' }, expected: 'foo(x)' },
    { step: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat, text: 'foo(x))', ctx: { lineSuffix: ')' }, expected: 'foo(x)' },
    { step: 'stopAtSuffixRepeat', apply: stopAtSuffixRepeat, text: 'abc', ctx: { lineSuffix: '' }, expected: 'abc' },
    {
      step: 'dropRepeatedFollowingLines',
      apply: dropRepeatedFollowingLines,
      text: 'a();\n  b();\n  return c;\n}',
      ctx: { followingLines: ['', '  return c;', '}'] },
      expected: 'a();\n  b();',
    },
    {
      step: 'dropRepeatedFollowingLines',
      apply: dropRepeatedFollowingLines,
      text: 'a();\n}',
      ctx: { followingLines: ['}'] },
      expected: 'a();',
    },
    {
      step: 'dropRepeatedFollowingLines (first line is never dropped)',
      apply: dropRepeatedFollowingLines,
      text: '}',
      ctx: { followingLines: ['}'] },
      expected: '}',
    },
    { step: 'balanceBrackets', apply: balanceBrackets, text: 'x]', ctx: { linePrefix: 'a = [', lineSuffix: ']' }, expected: 'x' },
    { step: 'balanceBrackets', apply: balanceBrackets, text: '1, 2)', ctx: { linePrefix: 'f(', lineSuffix: ')' }, expected: '1, 2' },
    { step: 'balanceBrackets', apply: balanceBrackets, text: 'g(1))', ctx: { linePrefix: 'f(', lineSuffix: ')' }, expected: 'g(1)' },
    { step: 'balanceBrackets', apply: balanceBrackets, text: 'g(1)', ctx: { linePrefix: 'f(', lineSuffix: '' }, expected: 'g(1)' },
    { step: 'balanceBrackets', apply: balanceBrackets, text: '1)', ctx: { linePrefix: 'f(', lineSuffix: '' }, expected: '1)' },
    { step: 'keepIndentation', apply: keepIndentation, text: '    return x;', ctx: { linePrefix: '    ' }, expected: 'return x;' },
    { step: 'keepIndentation', apply: keepIndentation, text: 'return x;', ctx: { linePrefix: '    ' }, expected: 'return x;' },
    { step: 'keepIndentation', apply: keepIndentation, text: 'a();\n        b();', ctx: { linePrefix: '\t' }, expected: 'a();\n\t\tb();' },
    { step: 'keepIndentation', apply: keepIndentation, text: '  x', ctx: { linePrefix: 'a =' }, expected: '  x' },
  ];
  it.each(rows)('$step: $text -> $expected', ({ apply, text, ctx, expected }) => {
    expect(apply(text, context(ctx))).toBe(expected);
  });
});

describe('shownSuggestion', () => {
  it('chains extraction and cleanup', () => {
    const ctx = context({ linePrefix: '  call(', lineSuffix: ')', followingLines: ['}'] });
    expect(shownSuggestion('a, b)\n  next();', false, ctx)).toEqual({ text: 'a, b', complete: true, consumed: 6 });
  });

  it('drops the closing brace the editor already has after a multi-line body', () => {
    const ctx = context({ linePrefix: 'function f() {', followingLines: ['}'], multiline: true });
    expect(shownSuggestion('\n  return 1;\n}\n', false, ctx)).toEqual({
      text: '\n  return 1;',
      complete: true,
      consumed: '\n  return 1;\n}\n'.length,
    });
  });
});
