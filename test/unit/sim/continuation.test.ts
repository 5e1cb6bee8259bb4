// Continuation modes: `true` continues with the text that follows the prompt's prefix in the files, `wrong` with code
// whose first non-blank character differs from that, `mixed:P` picks per prompt (deterministically). The matching is
// a pure module (continuation.ts); the simulator applies it to completion and FIM requests only.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ContinuationIndex,
  continuationCompletion,
  formatContinuation,
  MIN_TAIL_NONBLANK_CHARS,
  parseContinuation,
  picksTrue,
  prefixOfPrompt,
  wrongContinuation,
} from '../../../src/sim/continuation';
import { readContinuationDir } from '../../../src/sim/continuationFiles';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import {
  chatDelta,
  field,
  lastRequestOf,
  ndjsonLines,
  parseRecord,
  postJson,
  readTimed,
  simulatorForFile,
  sseEvents,
  testAgent,
} from './simHelpers';

/** A source file of `count` functions; `seed` makes each file's names its own, while `}` and `return` lines repeat everywhere. */
function sourceFile(seed: number, count: number): string {
  const parts: string[] = [`// File ${seed}: helpers for module ${seed}.\nimport { shared } from './shared';\n`];
  for (let index = 0; index < count; index++) {
    const name = `compute${seed}x${index}`;
    parts.push(
      `export function ${name}(input: number, options: Options${seed}): number {\n` +
        `  const scaled = input * ${(index % 7) + 2} + options.offset${index % 5};\n` +
        `  if (scaled > ${seed * 10 + index}) {\n` +
        `    return shared(scaled, '${name}');\n` +
        `  }\n` +
        `  return scaled;\n` +
        `}\n`,
    );
  }
  return parts.join('\n');
}

const FIRST_NON_BLANK = /\S/;
const firstChar = (text: string): string | undefined => FIRST_NON_BLANK.exec(text)?.[0];

function indexOf(files: readonly string[]): ContinuationIndex {
  return new ContinuationIndex(() => files);
}

describe('parseContinuation', () => {
  it.each([
    ['true', { kind: 'true' }],
    ['wrong', { kind: 'wrong' }],
    ['mixed:0', { kind: 'mixed', trueShare: 0 }],
    ['mixed:1', { kind: 'mixed', trueShare: 1 }],
    ['mixed:0.25', { kind: 'mixed', trueShare: 0.25 }],
    [' mixed:.5 ', { kind: 'mixed', trueShare: 0.5 }],
  ])('parses %j', (spec, mode) => {
    expect(parseContinuation(spec)).toEqual(mode);
    const parsed = parseContinuation(spec);
    if (parsed === null) throw new Error('unparsed');
    expect(parseContinuation(formatContinuation(parsed))).toEqual(parsed);
  });

  it.each(['', 'TRUE', 'right', 'mixed', 'mixed:', 'mixed:1.5', 'mixed:-0.1', 'mixed:abc', 'true:1'])(
    'rejects %j',
    (spec) => {
      expect(parseContinuation(spec)).toBeNull();
    },
  );
});

describe('ContinuationIndex.find', () => {
  const a = sourceFile(1, 30);
  const b = sourceFile(2, 30);

  it('continues after the prefix, ignoring a header before it, from inside a line or at a line start', () => {
    const index = indexOf([a, b]);
    for (const at of [
      b.indexOf("  return shared(scaled, 'compute2x17')") + 9,
      b.indexOf('export function compute2x20'),
    ]) {
      const prefix = `// Related: src/other.ts\n// const unrelated = 1;\n${b.slice(0, at)}`;
      const match = index.find(prefix);
      expect(match).toMatchObject({ fileIndex: 1, offset: at });
      if (match === null) throw new Error('no match');
      expect(index.textAfter(match)).toBe(b.slice(at, at + 11_000));
      expect(index.textAfter(match, 20)).toBe(b.slice(at, at + 20));
    }
  });

  it('prefers the longest matching tail, whichever file comes first', () => {
    // `short` shares only the last three lines of the prefix; `b` shares all of it.
    const at = b.indexOf('export function compute2x12');
    const tail = b.slice(b.lastIndexOf('export function', at - 1), at);
    const short = `${tail.split('\n').slice(-8).join('\n')}// a different continuation\n`;
    expect(indexOf([short]).find(b.slice(0, at))).toMatchObject({ fileIndex: 0 });
    const index = indexOf([short, b]);
    expect(index.find(b.slice(0, at))).toMatchObject({ fileIndex: 1, offset: at, matchedChars: at });
  });

  it('matches a tail when the text further back was edited, and the whole prefix when its first line was cut', () => {
    const index = indexOf([a, b]);
    const at = a.indexOf('export function compute1x9');
    const edited = `${a.slice(0, at - 300)}// an edit the file on disk does not have\n${a.slice(at - 300, at)}`;
    const match = index.find(edited);
    expect(match?.offset).toBe(at);
    expect(match?.matchedChars).toBeLessThan(edited.length);
    // A prompt window that starts mid-line: the first line matches the end of a file line.
    const cut = a.slice(a.indexOf('input * 4') + 3, at);
    expect(index.find(cut)).toMatchObject({ fileIndex: 0, offset: at, matchedChars: cut.length });
  });

  it(`needs at least ${MIN_TAIL_NONBLANK_CHARS} non-blank characters of tail; a shorter whole prefix matches only at a file start`, () => {
    const index = indexOf([a, b]);
    // The last line exists in `b`, but the lines before it do not: too little to go on.
    expect(index.find(`totally different text that is in no file at all\n  return scaled;\n}\n`)).toBeNull();
    expect(index.find('// File 2: he')).toMatchObject({ fileIndex: 1, offset: '// File 2: he'.length });
    expect(index.find('  return scaled;\n')).toBeNull();
    expect(index.find('')).toBeNull();
    expect(indexOf([]).find(a.slice(0, 500))).toBeNull();
  });

  it('handles CRLF files and FIM-template prompts', () => {
    const crlf = a.replace(/\n/g, '\r\n');
    const at = crlf.indexOf('export function compute1x4');
    expect(indexOf([crlf]).find(crlf.slice(0, at))).toMatchObject({ offset: at });
    const prefix = b.slice(0, b.indexOf('  return scaled;', 2000));
    const suffix = b.slice(prefix.length + 40);
    const template = `<|repo_name|>demo\n<|file_sep|>b.ts\n<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;
    expect(prefixOfPrompt(template)).toBe(prefix);
    expect(prefixOfPrompt(`<PRE> ${prefix} <SUF>${suffix} <MID>`)).toBe(prefix);
    expect(prefixOfPrompt(`[SUFFIX]${suffix}[PREFIX]${prefix}`)).toBe(prefix);
    // Code that only mentions the markers is taken as it is.
    const mentions = 'const fim = `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`;\nconst next = ';
    expect(prefixOfPrompt(mentions)).toBe(mentions);
    expect(indexOf([b]).find(prefixOfPrompt(template))?.offset).toBe(prefix.length);
  });

  it('indexes once per set of files, and then only the files whose text is new', () => {
    let files: readonly string[] = [a];
    let calls = 0;
    const index = new ContinuationIndex(() => {
      calls += 1;
      return files;
    });
    expect(index.updates).toBe(0);
    for (let at = 1000; at < 5000; at += 100) index.find(a.slice(0, at));
    expect([index.updates, index.indexedFiles, calls]).toEqual([1, 1, 40]);
    files = [b, a];
    expect(index.find(b.slice(0, 3000))?.fileIndex).toBe(0);
    expect(index.find(a.slice(0, 3000))?.fileIndex).toBe(1);
    expect([index.updates, index.indexedFiles]).toEqual([2, 2]);
    // A saved file: one new text, the other unchanged (an equal string, read again, counts as unchanged).
    const saved = a.replace('compute1x5(', 'renamed1x5(');
    files = [b.slice(0, 10) + b.slice(10), saved];
    expect(index.find(saved.slice(0, saved.indexOf('renamed1x5') + 30))).toMatchObject({ fileIndex: 1 });
    expect(index.find(a.slice(0, a.indexOf('compute1x5') + 30))).toBeNull();
    expect([index.updates, index.indexedFiles]).toEqual([3, 3]);
    // Files that went away stop matching at once; once their stale entries outweigh the live ones, all is indexed again.
    files = [saved];
    expect(index.find(b.slice(0, 3000))).toBeNull();
    expect(index.find(saved.slice(0, 3000))).toMatchObject({ fileIndex: 0 });
    expect(index.indexedFiles).toBe(4);
    // The same text twice is indexed once, and the first place wins.
    files = [b, saved, b];
    expect(index.find(b.slice(0, 3000))).toMatchObject({ fileIndex: 0 });
  });

  it('is fast on a few hundred files with 6 KB prefixes (lines indexed once, no scan per tail)', () => {
    const files = Array.from({ length: 300 }, (_, seed) => sourceFile(seed + 10, 60));
    const index = indexOf(files);
    const startedMs = performance.now();
    expect(index.fileCount).toBe(300);
    const builtMs = performance.now() - startedMs;
    const lookupsStartedMs = performance.now();
    let matched = 0;
    for (let lookup = 0; lookup < 200; lookup++) {
      const file = files[(lookup * 37) % files.length] ?? '';
      const at = 6000 + ((lookup * 997) % (file.length - 7000));
      const match = index.find(file.slice(at - 6000, at));
      if (match !== null && index.textAfter(match, 50) === file.slice(at, at + 50)) matched += 1;
    }
    const lookupsMs = performance.now() - lookupsStartedMs;
    expect(matched).toBe(200);
    // About 100 ms to index 5 MB and under 1 ms per lookup here; the bounds leave room for a loaded machine.
    expect(builtMs).toBeLessThan(3000);
    expect(lookupsMs / 200).toBeLessThan(25);
  });
});

describe('wrong and mixed', () => {
  const files = [sourceFile(3, 40), sourceFile(4, 40)];
  const index = indexOf(files);

  it("wrong never starts with the true continuation's first non-blank character, and keeps its leading whitespace", () => {
    const text = files[0] ?? '';
    let checked = 0;
    for (let at = 3000; at < text.length - 100; at += 211) {
      const prefix = text.slice(0, at);
      const truth = text.slice(at);
      const wrong = continuationCompletion({ kind: 'wrong' }, index, { prefix, promptText: prefix });
      if (wrong === null) throw new Error('no match');
      const truthFirst = firstChar(truth);
      expect(firstChar(wrong)).not.toBe(truthFirst);
      expect(firstChar(wrong)).toBeDefined();
      const leading = truth.slice(0, truth.search(FIRST_NON_BLANK));
      expect(wrong.startsWith(leading)).toBe(true);
      expect(continuationCompletion({ kind: 'true' }, index, { prefix, promptText: prefix })).toBe(
        truth.slice(0, 11_000),
      );
      checked += 1;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('falls back to the corpus, then to a fixed opening, when the files offer nothing else', () => {
    const onlyReturns = Array.from({ length: 40 }, (_, line) => `return value${line} + offset${line};`).join('\n');
    const only = indexOf([onlyReturns]);
    const prefix = onlyReturns.slice(0, onlyReturns.indexOf('return value30'));
    const wrong = continuationCompletion({ kind: 'wrong' }, only, { prefix, promptText: prefix });
    expect(firstChar(wrong ?? 'r')).not.toBe('r');
    // TypeScript corpus code starts with `export`: avoiding `e` leaves the fixed opening.
    const fallback = wrongContinuation('  export const x = 1;', indexOf([]), 7, 'const a: number = 1;');
    expect(fallback.startsWith('  ')).toBe(true);
    expect(firstChar(fallback)).not.toBe('e');
  });

  it('mixed:P picks true for about a share P of prompts, the same way every time', () => {
    const prompts = Array.from({ length: 2000 }, (_, n) => `const value${n} = compute(${n * 7});\n`);
    const share = (trueShare: number) =>
      prompts.filter((prompt) => picksTrue({ kind: 'mixed', trueShare }, prompt)).length / prompts.length;
    expect(share(0)).toBe(0);
    expect(share(1)).toBe(1);
    expect(share(0.3)).toBeGreaterThan(0.25);
    expect(share(0.3)).toBeLessThan(0.35);
    for (const prompt of prompts.slice(0, 50)) {
      expect(picksTrue({ kind: 'mixed', trueShare: 0.5 }, prompt)).toBe(
        picksTrue({ kind: 'mixed', trueShare: 0.5 }, prompt),
      );
    }
  });

  it('answers null when nothing matches, so that the simulator falls back to its default', () => {
    expect(
      continuationCompletion({ kind: 'true' }, index, {
        prefix: 'nothing like this is in the files, not even close!\n',
        promptText: 'x',
      }),
    ).toBeNull();
  });
});

describe('readContinuationDir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-continuation-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads text files, sorted, and never secrets, dependencies, .git, binaries or files over 256 KB', () => {
    mkdirSync(join(dir, 'src'));
    mkdirSync(join(dir, 'node_modules', 'lib'), { recursive: true });
    mkdirSync(join(dir, '.git'));
    writeFileSync(join(dir, 'src', 'b.ts'), 'export const b = 2;\n');
    writeFileSync(join(dir, 'src', 'a.ts'), 'export const a = 1;\n');
    writeFileSync(join(dir, '.env'), 'API_KEY=secret-value\n');
    writeFileSync(join(dir, 'node_modules', 'lib', 'index.js'), 'module.exports = 1;\n');
    writeFileSync(join(dir, '.git', 'config'), '[core]\n');
    writeFileSync(join(dir, 'big.ts'), `// ${'x'.repeat(300 * 1024)}\n`);
    writeFileSync(join(dir, 'data.bin'), Buffer.from([1, 0, 2, 0]));
    writeFileSync(join(dir, 'notes.txt'), Buffer.from([104, 0, 105]));
    const read = readContinuationDir(dir);
    expect(read.texts).toEqual(['export const a = 1;\n', 'export const b = 2;\n']);
    expect(read.skipped).toBe(4);
  });
});

describe('the simulator with continuations', () => {
  const file = sourceFile(5, 40);
  const other = sourceFile(6, 40);
  const files: readonly string[] = [other, file];
  const agent = testAgent();
  let sim: RunningSimulator;
  simulatorForFile(
    { ttftMs: 1, tokensPerSec: 20_000, continuation: 'true', continuationFiles: () => files },
    agent,
    (running) => {
      sim = running;
    },
  );

  const at = file.indexOf(`  if (scaled > ${5 * 10 + 17})`);
  const prefix = `// src/other.ts\n${file.slice(0, at)}`;
  const suffix = file.slice(at + 200);

  it.each([
    ['/v1/completions', { prompt: prefix, suffix, max_tokens: 30, stream: true }],
    ['/infill', { input_prefix: prefix, input_suffix: suffix, n_predict: 30, stream: true }],
    [
      '/completion',
      { prompt: `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`, n_predict: 30, stream: true },
    ],
    ['/api/generate', { model: 'm', prompt: prefix, suffix, options: { num_predict: 30 } }],
  ])("%s streams the file's own continuation", async (path, body) => {
    const response = await postJson(agent, `${sim.baseUrl}${path}`, body);
    expect(response.status).toBe(200);
    await response.text();
    const written = lastRequestOf(sim).textWritten;
    expect(lastRequestOf(sim).tokensWritten).toBe(30);
    expect(written.length).toBeGreaterThan(40);
    expect(file.slice(at).startsWith(written)).toBe(true);
  });

  it('x-sim-continuation picks the mode per request: wrong differs at the first non-blank character, none is the default', async () => {
    const ask = async (mode: string) => {
      const response = await postJson(
        agent,
        `${sim.baseUrl}/v1/completions`,
        { prompt: prefix, suffix, max_tokens: 20, stream: true },
        { 'x-sim-continuation': mode },
      );
      expect(response.status).toBe(200);
      return sseEvents(await readTimed(response.body))
        .filter((event) => event.data !== '[DONE]')
        .map((event) => String(field(parseRecord(event.data), 'choices', 0, 'text') ?? ''))
        .join('');
    };
    const wrong = await ask('wrong');
    expect(firstChar(wrong)).toBeDefined();
    expect(firstChar(wrong)).not.toBe(firstChar(file.slice(at)));
    const plain = await ask('none');
    expect(file.slice(at).startsWith(plain)).toBe(false);
    const truth = await ask('true');
    expect(file.slice(at).startsWith(truth)).toBe(true);
    expect(await ask('mixed:1')).toBe(truth);
    expect(await ask('mixed:0')).toBe(wrong);
    const bad = await postJson(
      agent,
      `${sim.baseUrl}/v1/completions`,
      { prompt: 'x' },
      { 'x-sim-continuation': 'sometimes' },
    );
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('x-sim-continuation');
  });

  it('mixed:0.5 gives some prompts the truth and others not, the same answer for the same prompt', async () => {
    const outcomes: boolean[] = [];
    for (let cut = 0; cut < 16; cut++) {
      const cursor = file.indexOf('  return scaled;', 1500 + cut * 300);
      const body = { prompt: file.slice(0, cursor), max_tokens: 8, stream: false };
      const first = parseRecord(
        await (
          await postJson(agent, `${sim.baseUrl}/v1/completions`, body, { 'x-sim-continuation': 'mixed:0.5' })
        ).text(),
      );
      const again = parseRecord(
        await (
          await postJson(agent, `${sim.baseUrl}/v1/completions`, body, { 'x-sim-continuation': 'mixed:0.5' })
        ).text(),
      );
      const text = String(field(first, 'choices', 0, 'text'));
      expect(field(again, 'choices', 0, 'text')).toBe(text);
      outcomes.push(file.slice(cursor).startsWith(text));
    }
    expect(outcomes).toContain(true);
    expect(outcomes).toContain(false);
  });

  it('leaves chat alone, falls back to the default when nothing matches, and completionFor still wins', async () => {
    const chat = await postJson(agent, `${sim.baseUrl}/v1/chat/completions`, {
      messages: [{ role: 'user', content: prefix }],
      max_tokens: 12,
      stream: true,
    });
    const chatText = sseEvents(await readTimed(chat.body))
      .filter((event) => event.data !== '[DONE]')
      .map((event) => chatDelta(event.data))
      .join('');
    expect(chatText.startsWith('Here is')).toBe(true);
    const unmatched = { prompt: 'a prompt that is in none of the files, long enough to count\n', max_tokens: 10 };
    const withMode = await postJson(agent, `${sim.baseUrl}/v1/completions`, unmatched);
    const withoutMode = await postJson(agent, `${sim.baseUrl}/v1/completions`, unmatched, {
      'x-sim-continuation': 'none',
    });
    expect(field(parseRecord(await withMode.text()), 'choices', 0, 'text')).toBe(
      field(parseRecord(await withoutMode.text()), 'choices', 0, 'text'),
    );
    sim.setDefaults({ completionFor: () => 'chosen by the test' });
    try {
      const ollama = await postJson(agent, `${sim.baseUrl}/api/generate`, { model: 'm', prompt: prefix });
      const lines = ndjsonLines(await readTimed(ollama.body)).map((line) => parseRecord(line.data));
      expect(lines.map((line) => String(line['response'] ?? '')).join('')).toBe('chosen by the test');
    } finally {
      sim.setDefaults({ completionFor: undefined });
    }
  });

  it('rejects an invalid continuation option when the simulator starts', async () => {
    await expect(startSimulator({ continuation: 'mixed:2' })).rejects.toThrow(/continuation/);
  });
});
