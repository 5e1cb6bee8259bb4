import { describe, expect, it } from 'vitest';
import { REFACTOR_PRESETS, findRefactorPreset } from '../../../../src/core/refactor/refactorPresets';
import {
  buildRefactorMessages,
  refactorOutputBudget,
  surroundingContext,
} from '../../../../src/core/refactor/refactorPrompt';

describe('refactor prompt', () => {
  it('fences the code with a fence longer than any backtick run inside it', () => {
    const messages = buildRefactorMessages({
      instruction: 'Simplify',
      languageId: 'markdown',
      filePath: 'doc.md',
      code: 'text\n```js\nx\n```\n',
      contextBefore: '',
      contextAfter: '',
      insertBelow: false,
    });
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    const user = messages[1]?.content ?? '';
    expect(user).toContain('````markdown\ntext\n```js');
    expect(user).toContain('Instruction: Simplify\nYour answer replaces the code.');
    expect(user).not.toContain('Code just above');
  });

  it('sends the surrounding lines as context and says where the answer goes', () => {
    const lines = ['a', 'b', 'c', 'd', 'e', 'f'];
    expect(surroundingContext(lines, 2, 4, 1)).toEqual({ before: 'b', after: 'e' });
    const user =
      buildRefactorMessages({
        instruction: 'Write tests',
        languageId: 'python',
        filePath: 'x.py',
        code: 'c',
        contextBefore: 'b',
        contextAfter: 'e',
        insertBelow: true,
      })[1]?.content ?? '';
    expect(user).toContain('Code just above (context only, do not repeat it):\n```\nb\n```');
    expect(user).toContain('inserted below the code');
  });

  it('budgets the answer from the code size within a floor and a ceiling', () => {
    expect(refactorOutputBudget(10, 1.5, 16_384)).toBe(1024);
    expect(refactorOutputBudget(2000, 2, 16_384)).toBe(4064);
    expect(refactorOutputBudget(20_000, 3, 16_384)).toBe(16_384);
  });

  it('has the presets of the issue, each findable by id', () => {
    expect(REFACTOR_PRESETS.map((preset) => preset.label)).toEqual([
      'Simplify',
      'Add types',
      'Extract function',
      'Add documentation',
      'Improve names',
      'Fix the bug',
      'Convert to async/await',
      'Write tests for this',
    ]);
    for (const preset of REFACTOR_PRESETS) expect(findRefactorPreset(preset.id)).toBe(preset);
    expect(findRefactorPreset('writeTests')?.placement).toBe('insertBelow');
  });
});
