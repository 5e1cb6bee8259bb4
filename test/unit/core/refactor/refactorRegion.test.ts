import { describe, expect, it } from 'vitest';
import { planRefactorRegion } from '../../../../src/core/refactor/refactorRegion';

const TEXT = 'class A {\n  run() {\n    go();\n  }\n}\n';

describe('planRefactorRegion', () => {
  it('keeps whole selected lines with their final newline', () => {
    const start = TEXT.indexOf('  run');
    const end = TEXT.indexOf('}\n}') + 2;
    const plan = planRefactorRegion(TEXT, start, end, 'replace');
    expect(plan.code).toBe('  run() {\n    go();\n  }\n');
    expect(plan.baseIndent).toBe('  ');
    expect(plan.firstLineIndentPresent).toBe(false);
    expect(plan.trailingText).toBe('\n');
    expect([plan.startLine, plan.endLine]).toEqual([1, 4]);
  });

  it('widens a selection that starts inside the indentation to the line start', () => {
    const start = TEXT.indexOf('run');
    const plan = planRefactorRegion(TEXT, start, TEXT.indexOf('go();') + 5, 'replace');
    expect(plan.region.offset).toBe(TEXT.indexOf('  run'));
    expect(plan.firstLineIndentPresent).toBe(false);
    expect(plan.trailingText).toBe('');
  });

  it('keeps code before a mid-line selection', () => {
    const start = TEXT.indexOf('go');
    const plan = planRefactorRegion(TEXT, start + 2, start + 4, 'replace');
    expect(plan.code).toBe('()');
    expect(plan.firstLineIndentPresent).toBe(true);
    expect(plan.baseIndent).toBe('    ');
  });

  it('inserts below the last selected line after a blank line', () => {
    const start = TEXT.indexOf('  run');
    const end = TEXT.indexOf('}\n}') + 2;
    const plan = planRefactorRegion(TEXT, start, end, 'insertBelow');
    expect(plan.region).toEqual({ offset: TEXT.indexOf('}\n}') + 1, length: 0 });
    expect(plan.leadingText).toBe('\n\n');
    expect(plan.code).toBe('  run() {\n    go();\n  }\n');
  });

  it('inserts below in a CRLF document before the line end', () => {
    const crlf = 'a();\r\nb();\r\n';
    const plan = planRefactorRegion(crlf, 0, 4, 'insertBelow');
    expect(plan.region.offset).toBe(4);
  });
});
