import { describe, expect, it } from 'vitest';
import { CodeExtractor, isProseLine } from '../../../../src/core/refactor/codeExtractor';

/** Feeds `answer` cut into the given chunk sizes (cycled) and returns the extracted code. */
function extract(answer: string, sizes: readonly number[] = [answer.length]): string {
  const extractor = new CodeExtractor();
  let out = '';
  let at = 0;
  let step = 0;
  while (at < answer.length) {
    const size = Math.max(1, sizes[step % sizes.length] ?? 1);
    out += extractor.push(answer.slice(at, at + size));
    at += size;
    step += 1;
  }
  return out + extractor.finish();
}

const CODE = 'function add(a, b) {\n  return a + b;\n}\n\nconst x = `template ``` inside`;';

const ANSWERS: readonly { name: string; answer: string; code: string }[] = [
  { name: 'a bare fenced block', answer: '```ts\n' + CODE + '\n```\n', code: CODE },
  {
    name: 'a sentence before and after',
    answer: 'Here is the simplified code:\n\n```typescript\n' + CODE + '\n```\n\nThis removes the loop.',
    code: CODE,
  },
  { name: 'tildes and a longer fence', answer: 'Sure!\n~~~~\n' + CODE + '\n~~~~\nDone.', code: CODE },
  { name: 'bare code without a fence', answer: CODE + '\n', code: CODE },
  { name: 'a sentence then bare code', answer: 'Here is the result:\n' + CODE, code: CODE },
  {
    name: 'a think block first',
    answer: '<think>\nThe user wants: simpler.\n</think>\n```js\n' + CODE + '\n```',
    code: CODE,
  },
  { name: 'CRLF line ends', answer: '```ts\r\n' + CODE.replace(/\n/g, '\r\n') + '\r\n```\r\n', code: CODE },
  {
    name: 'a second block after the first is dropped',
    answer: '```ts\n' + CODE + '\n```\nUsage:\n```ts\nadd(1, 2);\n```',
    code: CODE,
  },
  { name: 'an unclosed fence (stream ended)', answer: '```ts\n' + CODE + '\n', code: CODE },
  { name: 'an indented closing fence', answer: '```\n' + CODE + '\n   ```\ntrailing words', code: CODE },
  { name: 'leading blank lines inside the fence', answer: '```\n\n\n' + CODE + '\n\n\n```', code: CODE },
];

describe('CodeExtractor', () => {
  for (const { name, answer, code } of ANSWERS) {
    it(`extracts ${name} at every chunk size`, () => {
      expect(extract(answer)).toBe(code);
      for (const size of [1, 2, 3, 5, 7]) expect(extract(answer, [size])).toBe(code);
      expect(extract(answer, [1, 4, 2, 9, 3])).toBe(code);
    });
  }

  it('is correct on every single cut point of a fenced answer', () => {
    const answer = 'Here you go:\n```ts\n' + CODE + '\n```\nBye.';
    for (let cut = 1; cut < answer.length; cut += 1) {
      const extractor = new CodeExtractor();
      const out = extractor.push(answer.slice(0, cut)) + extractor.push(answer.slice(cut)) + extractor.finish();
      expect(out, `cut at ${cut}`).toBe(CODE);
    }
  });

  it('streams within a line instead of waiting for its newline', () => {
    const extractor = new CodeExtractor();
    extractor.push('```ts\nconst value');
    expect(extractor.state).toBe('fenced');
    expect(extractor.push(' = 1')).toBe(' = 1');
  });

  it('holds a possible closing fence and trailing newlines back', () => {
    const extractor = new CodeExtractor();
    expect(extractor.push('```\nfoo()\n')).toBe('foo()');
    expect(extractor.push('`')).toBe('');
    expect(extractor.push('``\nAfter.')).toBe('');
    expect(extractor.state).toBe('done');
    expect(extractor.finish()).toBe('');
  });

  it('gives nothing for a prose-only answer', () => {
    expect(extract('I cannot refactor this code.\nIt is already simple.')).toBe('');
  });
});

describe('isProseLine', () => {
  it.each([
    ['Here is the refactored code:', true],
    ['Sure!', true],
    ['This version avoids the nested loop.', true],
    ['const x = 1;', false],
    ['return value', false],
    ['Console.log(x);', false],
    ['# A heading', false],
    ['// Here is a comment:', false],
    ['Foo(bar)', false],
  ])('%s -> %s', (line, prose) => {
    expect(isProseLine(line)).toBe(prose);
  });
});
