import { describe, expect, it } from 'vitest';
import { editableRegion } from '../../../../src/core/nextEdit/editableRegion';
import {
  buildNextEditPrompt,
  chooseNextEditFormat,
  createAnswerParser,
  type NextEditAnswerParser,
} from '../../../../src/core/nextEdit/nextEditFormats';
import { CURSOR_MARKER, REGION_END_MARKER, REGION_START_MARKER } from '../../../../src/core/nextEdit/nextEditLayout';
import {
  NEXT_EDIT_FORMAT_IDS,
  type NextEditFormatId,
  type NextEditPromptInput,
} from '../../../../src/core/nextEdit/nextEditTypes';

const FILE =
  Array.from({ length: 200 }, (_, index) => `const value${index} = compute(${index}, 'é😀');`).join('\n') + '\n';

function inputFor(text: string, cursorOffset: number, linesAround = 3): NextEditPromptInput {
  return {
    path: 'src/values.ts',
    languageId: 'typescript',
    text,
    region: editableRegion(text, cursorOffset, linesAround),
    history: [
      { path: 'src/values.ts', diff: '--- a/src/values.ts\n+++ b/src/values.ts\n@@ -1,1 +1,1 @@\n-old\n+new\n' },
    ],
    snippets: [{ path: 'src/compute.ts', text: 'export function compute(a: number, b: string) {}' }],
  };
}

/** Feeds `answer` to a parser in the given pieces; returns the text handed on and the verdict. */
function parse(parser: NextEditAnswerParser, pieces: readonly string[], completed = true) {
  let text = '';
  for (const piece of pieces) text += parser.push(piece);
  const end = parser.end(completed);
  return { text: end.ok ? text + end.rest : text, end };
}

function randomPieces(text: string, seed: number): string[] {
  const pieces: string[] = [];
  let state = seed;
  let at = 0;
  while (at < text.length) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const size = 1 + (state % 9);
    pieces.push(text.slice(at, at + size));
    at += size;
  }
  return pieces;
}

const CURSOR = FILE.indexOf('value100') + 3;

describe('chooseNextEditFormat', () => {
  const rows: { model: string; format: NextEditFormatId }[] = [
    { model: 'zed-industries/zeta', format: 'zeta' },
    { model: 'hf.co/bartowski/zed-industries_zeta-GGUF:Q4_K_M', format: 'zeta' },
    { model: 'sweepai/sweep-next-edit-1.5B', format: 'sweep' },
    { model: 'next-edit-7b', format: 'sweep' },
    { model: 'nate/instinct', format: 'instinct' },
    { model: 'llama-3.1-8b-instant', format: 'generic' },
  ];
  it.each(rows)('auto: $model -> $format', ({ model, format }) => {
    expect(chooseNextEditFormat(model, 'auto')).toBe(format);
  });
  it('an explicit setting wins over the model name', () => {
    expect(chooseNextEditFormat('zeta', 'generic')).toBe('generic');
    expect(chooseNextEditFormat('llama', 'sweep')).toBe('sweep');
  });
});

describe('buildNextEditPrompt', () => {
  it('generic: chat messages with the rules, the diffs, the snippets, the marked region and the instruction', () => {
    const prompt = buildNextEditPrompt('generic', inputFor(FILE, CURSOR));
    expect(prompt.prompt).toBeUndefined();
    const [system, user] = prompt.messages ?? [];
    expect(system?.role).toBe('system');
    expect(user?.content).toContain('```diff\n--- a/src/values.ts');
    expect(user?.content).toContain('`src/compute.ts`:');
    expect(user?.content).toContain(`${REGION_START_MARKER}\nconst value97`);
    expect(user?.content).toContain(`const val${CURSOR_MARKER}ue100`);
    expect(user?.content).toContain(`value103 = compute(103, 'é😀');\n${REGION_END_MARKER}\n`);
    expect(user?.content).toMatch(/rewritten region in one fenced code block and nothing else/);
    expect(prompt.expectedAnswer).toBe(`\`\`\`typescript\n${FILE.split('\n').slice(97, 104).join('\n')}\n\`\`\``);
  });

  it('native formats: a raw prompt with a limited window around the region, never the whole file', () => {
    for (const format of ['zeta', 'sweep', 'instinct'] as const) {
      const prompt = buildNextEditPrompt(format, inputFor(FILE, CURSOR));
      expect(prompt.messages, format).toBeUndefined();
      expect(prompt.prompt, format).toContain('value101');
      expect(prompt.prompt, format).not.toContain('value0 ');
      expect(prompt.prompt, format).not.toContain('value199 ');
      expect(prompt.expectedAnswer, format).not.toContain(CURSOR_MARKER);
    }
    const zeta = buildNextEditPrompt('zeta', inputFor(FILE, CURSOR));
    expect(zeta.prompt).toMatch(/^### Instruction:\n/);
    expect(zeta.prompt).toContain('User edited "src/values.ts":\n```diff\n@@ -1,1 +1,1 @@\n-old\n+new\n```');
    expect(zeta.prompt).toMatch(/### Response:\n$/);
    expect(zeta.expectedAnswer.startsWith('```src/values.ts\nconst value92')).toBe(true);
    const sweep = buildNextEditPrompt('sweep', inputFor(FILE, CURSOR));
    expect(sweep.prompt).toMatch(/<\|file_sep\|>updated\/src\/values\.ts\n$/);
    expect(sweep.prompt).toContain('<|file_sep|>src/values.ts.diff\noriginal:\nold\nupdated:\nnew\n');
    expect(sweep.stop).toContain('<|file_sep|>');
    const instinct = buildNextEditPrompt('instinct', inputFor(FILE, CURSOR));
    expect(instinct.prompt).toMatch(/<\|im_start\|>assistant\n$/);
    expect(instinct.stop).toContain('<|im_end|>');
  });

  it('marks the start of the file for Zeta when the excerpt reaches it, and sends CRLF text as LF', () => {
    const crlf = 'a = 1\r\nb = 2\r\nc = 3\r\n';
    const prompt = buildNextEditPrompt('zeta', inputFor(crlf, 8, 1));
    expect(prompt.prompt).toContain('```src/values.ts\n<|start_of_file|>\n<|editable_region_start|>\na = 1\n');
    expect(prompt.prompt).not.toContain('\r');
    expect(prompt.expectedAnswer).not.toContain('\r');
  });
});

describe('createAnswerParser', () => {
  const crlf = FILE.replace(/\n/g, '\r\n');
  for (const format of NEXT_EDIT_FORMAT_IDS) {
    for (const [name, text] of [
      ['LF', FILE],
      ['CRLF', crlf],
    ] as const) {
      it(`${format} (${name}): the unchanged answer gives back the region exactly, whatever the split`, () => {
        const input = inputFor(text, text.indexOf('value100') + 3);
        const answer = buildNextEditPrompt(format, input).expectedAnswer;
        const whole = parse(createAnswerParser(format, input), [answer]);
        expect(whole.end.ok).toBe(true);
        expect(whole.text).toBe(input.region.text);
        expect(parse(createAnswerParser(format, input), [...answer]).text).toBe(input.region.text);
        for (let seed = 1; seed <= 20; seed++) {
          expect(parse(createAnswerParser(format, input), randomPieces(answer, seed)).text).toBe(input.region.text);
        }
      });
    }
  }

  it('hands on the region while it streams, holding only a tail that may start the closing fence', () => {
    const input = inputFor(FILE, CURSOR);
    const parser = createAnswerParser('generic', input);
    const lines = input.region.text.split('\n');
    expect(parser.push('```typescript\n')).toBe('');
    // The line break is handed on at once: it ends the line either way (inside the region, or as its last).
    expect(parser.push(`${lines[0]}\n${lines[1]}\n${lines[2]}\n`)).toBe(`${lines[0]}\n${lines[1]}\n${lines[2]}\n`);
    expect(parser.push('`')).toBe('');
    expect(parser.push('`x')).toBe('``x');
    expect(parser.end(true)).toEqual({ ok: false, why: 'unparsable' });
  });

  it('strips an echoed cursor marker, even split across chunks', () => {
    const input = inputFor(FILE, CURSOR);
    const answer = buildNextEditPrompt('generic', input).expectedAnswer.replace('value100', `val${CURSOR_MARKER}ue100`);
    const pieces = [answer.slice(0, answer.indexOf('<|user') + 4), answer.slice(answer.indexOf('<|user') + 4)];
    expect(parse(createAnswerParser('generic', input), pieces).text).toBe(input.region.text);
  });

  it('accepts a short sentence before the fence, but prose without one is unparsable', () => {
    const input = inputFor(FILE, CURSOR);
    const answer = buildNextEditPrompt('generic', input).expectedAnswer;
    expect(parse(createAnswerParser('generic', input), [`Here it is:\n${answer}`]).text).toBe(input.region.text);
    expect(parse(createAnswerParser('generic', input), ['Nothing to change, it looks fine.']).end).toEqual({
      ok: false,
      why: 'unparsable',
    });
    expect(parse(createAnswerParser('zeta', input), ['I cannot help.']).end).toEqual({ ok: false, why: 'unparsable' });
    expect(parse(createAnswerParser('sweep', input), ['I am not sure what to do here.\n']).end).toEqual({
      ok: false,
      why: 'unparsable',
    });
  });

  it('incomplete: the closing marker never came and the stream was cut; unparsable when it ended normally', () => {
    const input = inputFor(FILE, CURSOR);
    for (const format of NEXT_EDIT_FORMAT_IDS) {
      const answer = buildNextEditPrompt(format, input).expectedAnswer;
      const cut = answer.slice(0, Math.floor(answer.length / 2));
      expect(parse(createAnswerParser(format, input), [cut], false).end, format).toEqual({
        ok: false,
        why: 'incomplete',
      });
    }
    const cut = buildNextEditPrompt('zeta', input).expectedAnswer.slice(0, 300);
    expect(parse(createAnswerParser('zeta', input), [cut], true).end).toEqual({ ok: false, why: 'unparsable' });
  });

  it('outside-region: Zeta changed the code it echoes around the region', () => {
    const input = inputFor(FILE, CURSOR);
    const answer = buildNextEditPrompt('zeta', input).expectedAnswer;
    const above = answer.replace('value96 =', 'value96 +=');
    const below = answer.replace('value105 =', 'renamed105 =');
    expect(parse(createAnswerParser('zeta', input), randomPieces(above, 3)).end).toEqual({
      ok: false,
      why: 'outside-region',
    });
    expect(parse(createAnswerParser('zeta', input), randomPieces(below, 4)).end).toEqual({
      ok: false,
      why: 'outside-region',
    });
  });

  it('outside-region: a bare-region answer that starts with the changed line above the region or ends with the one below', () => {
    const input = inputFor(FILE, CURSOR);
    const region = FILE.split('\n').slice(97, 104).join('\n');
    const lineAbove = FILE.split('\n')[96] ?? '';
    const lineBelow = FILE.split('\n')[104] ?? '';
    for (const format of ['generic', 'sweep', 'instinct'] as const) {
      const expected = buildNextEditPrompt(format, input).expectedAnswer;
      const top = expected.replace(region, `${lineAbove} // moved\n${region}`);
      const parser = createAnswerParser(format, input);
      const { text, end } = parse(parser, randomPieces(top, 7));
      expect(end, format).toEqual({ ok: false, why: 'outside-region' });
      expect(text, format).toBe('');
      const bottom = expected.replace(region, `${region}\n${lineBelow.replace('compute', 'computed')}`);
      expect(parse(createAnswerParser(format, input), [bottom]).end, format).toEqual({
        ok: false,
        why: 'outside-region',
      });
    }
  });

  it('an inserted line that does not resemble the line above is an ordinary edit', () => {
    const input = inputFor(FILE, CURSOR);
    const region = FILE.split('\n').slice(97, 104).join('\n');
    const answer = buildNextEditPrompt('generic', input).expectedAnswer.replace(region, `// header\n${region}`);
    const { text, end } = parse(createAnswerParser('generic', input), [answer]);
    expect(end.ok).toBe(true);
    expect(text).toBe(`// header\n${input.region.text}`);
  });
});
