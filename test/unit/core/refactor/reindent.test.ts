import { describe, expect, it } from 'vitest';
import { Reindenter, columns, type ReindentOptions } from '../../../../src/core/refactor/reindent';

function reindent(code: string, options: ReindentOptions, chunk = code.length): string {
  const reindenter = new Reindenter(options);
  let out = '';
  for (let at = 0; at < code.length; at += chunk) out += reindenter.push(code.slice(at, at + chunk));
  return out + reindenter.finish();
}

const SPACES4: ReindentOptions = { baseIndent: '    ', firstLineIndentPresent: false, insertSpaces: true, tabSize: 4 };

describe('Reindenter', () => {
  it('moves code the model dedented to the selection indentation, at any chunk size', () => {
    const code = 'if (x) {\n  y();\n}\n\nz();';
    const expected = '    if (x) {\n      y();\n    }\n\n    z();';
    for (const chunk of [1, 2, 3, 100]) expect(reindent(code, SPACES4, chunk)).toBe(expected);
  });

  it('keeps code that already has the right indentation', () => {
    const code = '    a();\n      b();';
    expect(reindent(code, SPACES4)).toBe(code);
  });

  it('does not repeat the indentation already in the document before a mid-line selection', () => {
    const code = '  foo(\n    1);';
    expect(reindent(code, { ...SPACES4, firstLineIndentPresent: true })).toBe('foo(\n      1);');
  });

  it('converts the model spaces to the document tabs', () => {
    const code = 'if (x) {\n  y();\n    z();\n}';
    const options: ReindentOptions = {
      baseIndent: '\t',
      firstLineIndentPresent: false,
      insertSpaces: false,
      tabSize: 4,
    };
    expect(reindent(code, options)).toBe('\tif (x) {\n\t\ty();\n\t\t\tz();\n\t}');
  });

  it('converts model tabs to the document spaces', () => {
    expect(reindent('a {\n\tb;\n}', { ...SPACES4, baseIndent: '' })).toBe('a {\n    b;\n}');
  });

  it('empties whitespace-only lines', () => {
    expect(reindent('a\n   \nb', SPACES4)).toBe('    a\n\n    b');
  });

  it('measures columns with tab stops', () => {
    expect(columns('\t  \t', 4)).toBe(8);
    expect(columns('  ', 4)).toBe(2);
  });
});
