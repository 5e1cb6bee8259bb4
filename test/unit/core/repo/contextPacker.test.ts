import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packContext, fenceFor, filesByReason, FILL_REASON } from '../../../../src/core/repo/contextPacker';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import type { RepoFileSystem } from '../../../../src/core/repo/repoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { linkCitations, repoTaskCacheablePrefixChars, repoTaskMessages } from '../../../../src/core/repo/repoPrompts';
import { lineColumnAt } from '../../../../src/core/repo/textPositions';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { makeTree, removeTree } from './repoTestTree';

let root = '';
let fs: RepoFileSystem;
let index: RepoIndex;

function moduleText(name: string, topic: string, lines: number): string {
  const body = Array.from({ length: lines }, (_, i) => `  const ${topic}Step${i} = compute${name}(${i});`).join('\n');
  return `import { helper } from '../helper';\n\nexport function ${name}(): void {\n${body}\n}\n`;
}

beforeAll(async () => {
  const files: Record<string, string> = {
    'src/helper.ts': 'export function helper(): number {\n  return 1;\n}\n',
    'src/billing/invoice.ts': moduleText('createInvoice', 'invoice', 120),
    'src/billing/tax.ts': moduleText('computeTax', 'tax', 80),
    'src/editor/active.ts': moduleText('activeThing', 'cursor', 30),
  };
  for (let i = 0; i < 40; i += 1) files[`src/misc/module${i}.ts`] = moduleText(`misc${i}`, `widget${i}`, 60);
  root = makeTree(files);
  fs = nodeRepoFileSystem(root);
  index = new RepoIndex(fs);
  await index.build();
});

afterAll(() => removeTree(root));

describe('packContext', () => {
  it('puts the best-matching file first, stays within the budget, and maps the rest', async () => {
    const result = await packContext(
      index,
      fs,
      { query: 'how is the invoice created', budgetTokens: 3_000 },
      countTokens,
    );
    expect(result.sections[0]?.path).toBe('src/billing/invoice.ts');
    expect(countTokens(result.text)).toBeLessThanOrEqual(3_000 * 1.02);
    expect(result.tokens).toBeGreaterThan(2_000);
    expect(result.mapFiles).toBeGreaterThan(0);
    expect(result.text).toContain('## Repository map');
    expect(result.text).toMatch(/module\d+\.ts: function misc\d+ L3/);
    expect(result.files + result.omittedFiles).toBeLessThanOrEqual(index.fileCount());
  });

  it('includes the active editor and its import neighbours even when the words do not match', async () => {
    const result = await packContext(
      index,
      fs,
      { query: 'invoice', budgetTokens: 6_000, activePath: 'src/editor/active.ts' },
      countTokens,
    );
    const shown = result.sections.map((section) => section.path);
    expect(shown).toContain('src/editor/active.ts');
    expect(shown).toContain('src/helper.ts');
    expect(result.sections.find((section) => section.path === 'src/editor/active.ts')?.why).toContain('active editor');
  });

  it('packs a whole small repository when the budget allows, with no map entries for files shown in full', async () => {
    const result = await packContext(index, fs, { query: 'anything', budgetTokens: 200_000 }, countTokens);
    expect(result.files).toBe(index.fileCount());
    expect(result.mapFiles).toBe(0);
    expect(result.omittedFiles).toBe(0);
  });

  it('lists the best match first even when the whole repository fits in the path-ordered core', async () => {
    const result = await packContext(index, fs, { query: 'compute the tax', budgetTokens: 200_000 }, countTokens);
    // The prompt keeps path order (billing/invoice.ts before billing/tax.ts); the sections, which the answer's
    // "Context:" line reads, follow the question.
    expect(result.text.indexOf('src/billing/invoice.ts')).toBeLessThan(result.text.indexOf('src/billing/tax.ts'));
    expect(result.sections[0]?.path).toBe('src/billing/tax.ts');
    expect(filesByReason(result.sections).chosen[0]).toBe('src/billing/tax.ts');
  });

  it('starts two different questions with the same map and core files, so a prompt cache serves the second', async () => {
    const ask = async (query: string) => {
      const packed = await packContext(index, fs, { query, budgetTokens: 12_000 }, countTokens);
      const text = repoTaskMessages('ask', packed.text, query)
        .map((message) => message.content)
        .join('');
      return { packed, text };
    };
    const first = await ask('how is the invoice created');
    const second = await ask('where is widget9Step3 computed');
    let shared = 0;
    while (shared < first.text.length && first.text[shared] === second.text[shared]) shared += 1;
    const share = countTokens(second.text.slice(0, shared)) / countTokens(second.text);
    // The repository does not fit: each question adds files of its own after the core (at most about a sixth of this
    // small budget; 8% of a large one), and the rest is shared.
    expect(second.packed.tokens).toBeGreaterThan(second.packed.stableTokens);
    expect(share).toBeGreaterThanOrEqual(0.8);
    // The prefix the request says is stable is stable, and ends before anything question-specific.
    const marked = repoTaskCacheablePrefixChars('ask', second.packed.stablePrefixChars);
    expect(marked).toBe(repoTaskCacheablePrefixChars('ask', first.packed.stablePrefixChars));
    expect(shared).toBeGreaterThanOrEqual(marked);
    expect(second.packed.text.startsWith('## Repository map')).toBe(true);
    // The best match still gets in (in the core or after it), and says why.
    const match = second.packed.sections.find((section) => section.path === 'src/misc/module9.ts');
    expect(match?.why).toContain('matches the request');
  });

  it('gives an empty pack for a zero budget instead of overrunning it', async () => {
    const result = await packContext(index, fs, { query: 'invoice', budgetTokens: 0 }, countTokens);
    expect(result.sections).toEqual([]);
    expect(result.tokens).toBeLessThanOrEqual(60);
  });
});

describe('helpers', () => {
  it('chooses a fence longer than any backtick run in the code', () => {
    expect(fenceFor('plain')).toBe('```');
    expect(fenceFor('a ```` b')).toBe('`````');
  });
  it('links citations of known files and leaves the rest', () => {
    const linked = linkCitations(
      'See [router](src/router.ts#L12) and [x](src/unknown.ts) and [web](https://example.com/a).',
      (path) => path === 'src/router.ts',
      (path) => `file:///ws/${path}`,
    );
    expect(linked).toBe(
      'See [router](file:///ws/src/router.ts#L12) and [x](src/unknown.ts) and [web](https://example.com/a).',
    );
  });
  it('converts offsets to line/column', () => {
    expect(lineColumnAt('ab\ncd\nef', 0)).toEqual({ line: 0, column: 0 });
    expect(lineColumnAt('ab\ncd\nef', 4)).toEqual({ line: 1, column: 1 });
    expect(lineColumnAt('ab\ncd\nef', 6)).toEqual({ line: 2, column: 0 });
  });
});

describe('filesByReason (what an answer says its context was)', () => {
  it('puts the files chosen for the request first, in rank order, and counts those that only fill the budget', () => {
    const section = (path: string, ...why: string[]) => ({ path, startLine: 0, endLine: 1, tokens: 1, why });
    const split = filesByReason([
      section('src/limiter.py', 'matches the request'),
      section('README.md', FILL_REASON),
      section('src/app.py', 'import neighbour'),
      section('src/limiter.py', FILL_REASON),
      section('docs/a.md', FILL_REASON),
    ]);
    expect(split.chosen).toEqual(['src/limiter.py', 'src/app.py']);
    expect(split.filler).toEqual(['README.md', 'docs/a.md']);
  });
});
