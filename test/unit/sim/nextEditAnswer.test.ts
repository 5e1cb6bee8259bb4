import { describe, expect, it } from 'vitest';
import { EditHistory } from '../../../src/core/nextEdit/editHistory';
import { editableRegion } from '../../../src/core/nextEdit/editableRegion';
import {
  buildNextEditPrompt,
  createAnswerParser,
  type NextEditPrompt,
} from '../../../src/core/nextEdit/nextEditFormats';
import { NEXT_EDIT_FORMAT_IDS, type NextEditPromptInput } from '../../../src/core/nextEdit/nextEditTypes';
import { GARBAGE_ANSWER, nextEditAnswer, scriptedRegion } from '../../../src/sim/nextEditAnswer';
import { resolveRequestSettings, SimHeaderError } from '../../../src/sim/simOptions';
import type { ParsedGeneration } from '../../../src/sim/wire/wireFormat';

/** The request the simulator would parse from a prompt (chat messages joined, or the raw prompt). */
function generationOf(prompt: NextEditPrompt): ParsedGeneration {
  const messages = prompt.messages ?? [];
  const promptText = prompt.prompt ?? messages.map((message) => message.content).join('\n');
  return {
    protocol: prompt.messages === undefined ? 'openai-completions' : 'openai-chat',
    model: 'sim',
    stream: true,
    maxTokens: null,
    stop: prompt.stop,
    includeUsage: false,
    cachePrompt: true,
    promptText,
    prefix: promptText,
    suffix: '',
    messages,
    prediction: null,
  };
}

/** The text after `edits` (each replaces `from` at its first occurrence after `after`), with the history they made. */
function edited(original: string, edits: readonly { at: string; from: string; to: string }[]) {
  const history = new EditHistory();
  history.opened('doc', 'src/app.ts', original);
  let text = original;
  let now = 0;
  for (const edit of edits) {
    const offset = text.indexOf(edit.at) + edit.at.indexOf(edit.from);
    // Typed the way a person does: the old word deleted, the new one a character at a time.
    history.changed('doc', [{ offset, length: edit.from.length, text: '' }], (now += 50), () => text);
    text = text.slice(0, offset) + text.slice(offset + edit.from.length);
    for (let index = 0; index < edit.to.length; index++) {
      const char = edit.to[index] ?? '';
      history.changed('doc', [{ offset: offset + index, length: 0, text: char }], (now += 50), () => text);
      text = text.slice(0, offset + index) + char + text.slice(offset + index);
    }
  }
  return { text, history: history.diffs(5) };
}

function inputFor(text: string, cursorOffset: number, history: NextEditPromptInput['history']): NextEditPromptInput {
  return {
    path: 'src/app.ts',
    languageId: 'typescript',
    text,
    region: editableRegion(text, cursorOffset, 10),
    history,
    snippets: [],
  };
}

function parseAll(input: NextEditPromptInput, format: (typeof NEXT_EDIT_FORMAT_IDS)[number], answer: string, seed = 1) {
  const parser = createAnswerParser(format, input);
  let text = '';
  let at = 0;
  let state = seed;
  while (at < answer.length) {
    state = (state * 48271) % 2147483647;
    const size = 1 + (state % 7);
    text += parser.push(answer.slice(at, at + size));
    at += size;
  }
  const end = parser.end(true);
  return end.ok ? { ok: true, text: text + end.rest } : { ok: false, why: end.why };
}

const HEADER = Array.from({ length: 15 }, (_, index) => `import { helper${index} } from './helper${index}';`).join(
  '\n',
);
const FOOTER = Array.from({ length: 15 }, (_, index) => `export const unrelated${index} = ${index};`).join('\n');

const RENAME_ORIGINAL = `${HEADER}
function total(items: Item[]): number {
  let sum = 0;
  for (const item of items) {
    sum += item.price;
  }
  return sum;
}
${FOOTER}
`;

const PARAMETER_ORIGINAL = `${HEADER}
function scale(value: number, factor: number): number {
  return value * factor;
}

const a = scale(1, 2);
const b = scale(3, 4) + scale(inner(5), 6);
const c = scale(7);
${FOOTER}
`;

describe('nextEditAnswer: scripted rewrites, round-tripped through every format', () => {
  const rename = edited(RENAME_ORIGINAL, [{ at: 'let sum = 0', from: 'sum', to: 'subtotal' }]);
  const parameter = edited(PARAMETER_ORIGINAL, [
    { at: 'factor: number)', from: 'factor: number', to: 'factor: number, offset: number' },
  ]);

  it('the history holds the rename as one coalesced diff', () => {
    expect(rename.history).toHaveLength(1);
    expect(rename.history[0]?.diff).toContain('-  let sum = 0;\n+  let subtotal = 0;');
  });

  it.each(NEXT_EDIT_FORMAT_IDS)('%s: a rename at the declaration is carried to the uses in the region', (format) => {
    const input = inputFor(rename.text, rename.text.indexOf('subtotal') + 8, rename.history);
    const answer = nextEditAnswer(generationOf(buildNextEditPrompt(format, input)), null);
    expect(answer).not.toBeNull();
    const expected = input.region.text.replace(/\bsum\b/g, 'subtotal');
    expect(expected).not.toBe(input.region.text);
    for (let seed = 1; seed <= 5; seed++) {
      expect(parseAll(input, format, answer ?? '', seed)).toEqual({ ok: true, text: expected });
    }
  });

  it.each(NEXT_EDIT_FORMAT_IDS)(
    '%s: an added parameter is passed at the calls with the old argument count',
    (format) => {
      const input = inputFor(parameter.text, parameter.text.indexOf('offset: number'), parameter.history);
      const answer = nextEditAnswer(generationOf(buildNextEditPrompt(format, input)), null);
      const expected = input.region.text
        .replace('scale(1, 2)', 'scale(1, 2, offset)')
        .replace('scale(3, 4)', 'scale(3, 4, offset)')
        .replace('scale(inner(5), 6)', 'scale(inner(5), 6, offset)');
      expect(expected).toContain('function scale(value: number, factor: number, offset: number)');
      expect(expected).toContain('scale(7);');
      expect(parseAll(input, format, answer ?? '')).toEqual({ ok: true, text: expected });
    },
  );

  it.each(NEXT_EDIT_FORMAT_IDS)('%s: with no history the answer is exactly the expected answer', (format) => {
    const input = inputFor(RENAME_ORIGINAL, RENAME_ORIGINAL.indexOf('let sum'), []);
    const prompt = buildNextEditPrompt(format, input);
    expect(nextEditAnswer(generationOf(prompt), null)).toBe(prompt.expectedAnswer);
  });

  it('leaves the region unchanged when the newest edit is neither a rename nor an added parameter', () => {
    expect(scriptedRegion('a(1, 2);\nb;', { before: 'x = 1;', after: 'x = 1 + y;' })).toBe('a(1, 2);\nb;');
    expect(scriptedRegion('sum + sum', { before: 'let sum = 0; sum', after: 'let total = 0; count' })).toBe(
      'sum + sum',
    );
    expect(scriptedRegion('sum + summary', { before: 'let sum = 0;', after: 'let total = 0;' })).toBe(
      'total + summary',
    );
  });
});

describe('nextEditAnswer: faults and other requests', () => {
  const rename = edited(RENAME_ORIGINAL, [{ at: 'let sum = 0', from: 'sum', to: 'subtotal' }]);
  const input = inputFor(rename.text, rename.text.indexOf('subtotal'), rename.history);

  it.each(NEXT_EDIT_FORMAT_IDS)('%s: garbage is prose the parser rejects as unparsable', (format) => {
    const answer = nextEditAnswer(generationOf(buildNextEditPrompt(format, input)), 'garbage');
    expect(answer).toBe(GARBAGE_ANSWER);
    expect(parseAll(input, format, answer ?? '')).toEqual({ ok: false, why: 'unparsable' });
  });

  it.each(NEXT_EDIT_FORMAT_IDS)('%s: outside changes a line outside the region, which the parser rejects', (format) => {
    const answer = nextEditAnswer(generationOf(buildNextEditPrompt(format, input)), 'outside') ?? '';
    expect(answer).toContain('// changed outside');
    expect(parseAll(input, format, answer)).toEqual({ ok: false, why: 'outside-region' });
  });

  it.each(NEXT_EDIT_FORMAT_IDS)('%s: repeat gives the region twice, drop an empty one', (format) => {
    const prompt = buildNextEditPrompt(format, input);
    const body = input.region.text.replace(/\n$/, '');
    const repeated = parseAll(input, format, nextEditAnswer(generationOf(prompt), 'repeat') ?? '');
    expect(repeated).toEqual({ ok: true, text: `${body}\n${body}\n` });
    const dropped = parseAll(input, format, nextEditAnswer(generationOf(prompt), 'drop') ?? '');
    expect(dropped).toEqual({ ok: true, text: '\n' });
  });

  it('answers null for requests that are not next-edit prompts, even ones quoting the markers', () => {
    const chat = generationOf({
      messages: [{ role: 'user', content: 'Explain <|editable_region_start|>' }],
      stop: [],
      expectedAnswer: '',
    });
    expect(nextEditAnswer(chat, null)).toBeNull();
    const fim = generationOf({
      prompt: `const s = '<|editable_region_start|>\\n<|file_sep|>updated/x';\n`,
      stop: [],
      expectedAnswer: '',
    });
    expect(nextEditAnswer(fim, 'garbage')).toBeNull();
  });

  it('takes the fault from the server options and from the x-sim-next-edit-fault header', () => {
    expect(resolveRequestSettings({}, {}).nextEditFault).toBeNull();
    expect(resolveRequestSettings({ nextEditFault: 'drop' }, {}).nextEditFault).toBe('drop');
    expect(
      resolveRequestSettings({ nextEditFault: 'drop' }, { 'x-sim-next-edit-fault': 'none' }).nextEditFault,
    ).toBeNull();
    expect(resolveRequestSettings({}, { 'x-sim-next-edit-fault': 'outside' }).nextEditFault).toBe('outside');
    expect(() => resolveRequestSettings({}, { 'x-sim-next-edit-fault': 'sideways' })).toThrow(SimHeaderError);
  });
});
