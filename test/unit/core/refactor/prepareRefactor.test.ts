import { describe, expect, it } from 'vitest';
import {
  MAX_REFACTOR_OUTPUT_TOKENS,
  REFACTOR_CONTEXT_LINES,
  prepareRefactor,
  type RefactorTaskInput,
} from '../../../../src/core/refactor/prepareRefactor';
import { findRefactorPreset } from '../../../../src/core/refactor/refactorPresets';
import {
  buildRefactorMessages,
  refactorOutputBudget,
  surroundingContext,
} from '../../../../src/core/refactor/refactorPrompt';
import { planRefactorRegion } from '../../../../src/core/refactor/refactorRegion';

/** A deterministic stand-in for the tokenizer: one token per 4 characters, rounded up. */
const countTokens = (text: string): number => Math.ceil(text.length / 4);

/** A file of `count` numbered lines, `\n` or `\r\n` ended. */
function numberedLines(count: number, lineEnd = '\n'): string {
  return Array.from({ length: count }, (_, index) => `  line${index};`).join(lineEnd) + lineEnd;
}

function inputFor(text: string, code: string, overrides: Partial<RefactorTaskInput> = {}): RefactorTaskInput {
  const start = text.indexOf(code);
  if (start < 0) throw new Error(`no ${code} in the text`);
  return {
    text,
    start,
    end: start + code.length,
    languageId: 'typescript',
    filePath: 'src/items.ts',
    instruction: 'Simplify',
    placement: 'replace',
    outputFactor: 1.5,
    indentation: { insertSpaces: true, tabSize: 2 },
    ...overrides,
  };
}

describe('prepareRefactor', () => {
  it('sends the code with up to 40 lines of context either side, and counts 4 framing tokens per message', () => {
    const text = numberedLines(200);
    const code = '  line100;\n  line101;\n';
    const prepared = prepareRefactor({ countTokens }, inputFor(text, code));

    expect(REFACTOR_CONTEXT_LINES).toBe(40);
    const user = prepared.messages[1]?.content ?? '';
    expect(user).toContain('File: src/items.ts (typescript)');
    expect(user).toContain('```typescript\n  line100;\n  line101;\n\n```');
    // Lines 60-99 above, 102-141 below: 40 each, no more.
    expect(user).toContain('```\n  line60;\n');
    expect(user).not.toContain('line59;');
    expect(user).toContain('  line141;\n```');
    expect(user).not.toContain('line142;');
    expect(user).toContain('Instruction: Simplify\nYour answer replaces the code.');
    expect(prepared.promptTokens).toBe(
      prepared.messages.reduce((sum, message) => sum + countTokens(message.content) + 4, 0),
    );
    expect(prepared.maxOutputTokens).toBe(1024);
  });

  it('hands startRefactor the planned region, the re-indent options and the texts around the answer', () => {
    const text = 'class Items {\n  old(items) {\n    return items;\n  }\n}\n';
    const code = '  old(items) {\n    return items;\n  }\n';
    const prepared = prepareRefactor({ countTokens }, inputFor(text, code));

    expect(prepared.job).toEqual({
      region: { offset: text.indexOf(code), length: code.length },
      messages: prepared.messages,
      promptTokens: prepared.promptTokens,
      maxOutputTokens: prepared.maxOutputTokens,
      reindent: { insertSpaces: true, tabSize: 2, baseIndent: '  ', firstLineIndentPresent: false },
      leadingText: '',
      trailingText: '\n',
      prediction: '```typescript\n  old(items) {\n    return items;\n  }\n\n```',
    });
    expect('role' in prepared.job).toBe(false);
    expect('extraHeaders' in prepared.job).toBe(false);
    expect(prepared.plan.region).toEqual(prepared.job.region);
  });

  it('predicts the code exactly as the prompt shows it: the answer of a model that changed nothing', () => {
    const text = 'const fence = "```";\nfunction f() {\n  return fence;\n}\n';
    const code = 'function f() {\n  return fence;\n}\n';
    const prepared = prepareRefactor({ countTokens }, inputFor(text, code));
    const prediction = prepared.job.prediction ?? '';
    // The context holds ``` so the prompt fences with four backticks; the prediction uses the same fence and tag.
    expect(prediction).toBe('````typescript\nfunction f() {\n  return fence;\n}\n\n````');
    expect(prepared.messages[1]?.content).toContain(`The code:\n${prediction}\n`);
  });

  it('inserts below for presets that add code, and passes a requested role and headers through', () => {
    const preset = findRefactorPreset('writeTests');
    if (preset === undefined) throw new Error('no writeTests preset');
    const text = 'function add(a, b) {\n  return a + b;\n}\n';
    const prepared = prepareRefactor(
      { countTokens },
      inputFor(text, text, {
        instruction: preset.instruction,
        placement: preset.placement,
        outputFactor: preset.outputFactor,
        role: 'longContext',
        extraHeaders: { 'x-sim-fault': 'reset' },
      }),
    );

    expect(preset.placement).toBe('insertBelow');
    expect(prepared.messages[1]?.content).toContain('Your answer is inserted below the code.');
    expect(prepared.job.region).toEqual({ offset: text.length - 1, length: 0 });
    expect(prepared.job.leadingText).toBe('\n\n');
    expect(prepared.job.role).toBe('longContext');
    expect(prepared.job.extraHeaders).toEqual({ 'x-sim-fault': 'reset' });
    // New code repeats nothing of the original: no prediction.
    expect('prediction' in prepared.job).toBe(false);
  });

  it('caps the answer budget at 16,384 tokens', () => {
    const text = numberedLines(20_000);
    const prepared = prepareRefactor({ countTokens }, { ...inputFor(text, text), outputFactor: 3 });
    expect(MAX_REFACTOR_OUTPUT_TOKENS).toBe(16_384);
    expect(prepared.maxOutputTokens).toBe(16_384);
  });

  // The prompt and budget the command adapter computed before they moved to core, step by step as it did.
  function adapterReference(input: RefactorTaskInput): { prompt: string[]; promptTokens: number; budget: number } {
    const plan = planRefactorRegion(input.text, input.start, input.end, input.placement);
    const context = surroundingContext(input.text.replace(/\r/g, '').split('\n'), plan.startLine, plan.endLine, 40);
    const messages = buildRefactorMessages({
      instruction: input.instruction,
      languageId: input.languageId,
      filePath: input.filePath,
      code: plan.code,
      contextBefore: context.before,
      contextAfter: context.after,
      insertBelow: input.placement === 'insertBelow',
    });
    return {
      prompt: messages.map((message) => message.content),
      promptTokens: messages.reduce((sum, message) => sum + countTokens(message.content) + 4, 0),
      budget: refactorOutputBudget(countTokens(plan.code), input.outputFactor, 16_384),
    };
  }

  it.each([
    ['a selection in a long file', numberedLines(300), '  line150;\n  line151;\n', {}],
    ['CRLF line ends', numberedLines(90, '\r\n'), '  line5;\r\n  line6;\r\n', {}],
    ['a selection that starts after code on its line', 'const a = 1; const b = 2;\n', 'const b = 2;', {}],
    ['the whole file', numberedLines(10), numberedLines(10), { outputFactor: 2 }],
    ['an insertion below', numberedLines(60), '  line30;\n', { placement: 'insertBelow' as const, outputFactor: 3 }],
  ])('gives the prompt and budget the adapter gave: %s', (_name, text, code, overrides) => {
    const input = inputFor(text, code, overrides);
    const prepared = prepareRefactor({ countTokens }, input);
    const reference = adapterReference(input);
    expect(prepared.messages.map((message) => message.content)).toEqual(reference.prompt);
    expect(prepared.promptTokens).toBe(reference.promptTokens);
    expect(prepared.maxOutputTokens).toBe(reference.budget);
  });
});
