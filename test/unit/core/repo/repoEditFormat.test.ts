import { describe, expect, it } from 'vitest';
import {
  describeProblems,
  describeRefusals,
  parseProposedEdits,
  refusalReport,
  type EditContext,
} from '../../../../src/core/repo/repoEditFormat';

const files: Record<string, string> = {
  'src/a.ts': 'export function add(a: number, b: number): number {\n  return a + b;\n}\n\nexport const twice = 2;\n',
  'src/b.ts': 'import { add } from "./a";\nexport const three = add(1, 2);\nexport const again = add(1, 2);\n',
  'src/crlf.ts': 'const x = 1;\r\nconst y = 2;\r\n',
};

const context: EditContext = {
  readText: async (path) => files[path] ?? null,
  // The safety rules have tests of their own (repoEditSafety.test.ts); here a stand-in refuses two paths.
  admit: async (path) =>
    path === '.env' || path.startsWith('node_modules/')
      ? { kind: 'refused', reason: `${path} is off limits.` }
      : { kind: 'allowed' },
};

describe('parseProposedEdits', () => {
  it('parses edits to several files, with prose and fences around them', async () => {
    const answer = [
      'I renamed `add` to `sum` everywhere.',
      '',
      '```',
      '### FILE: src/a.ts',
      '<<<<<<< SEARCH',
      'export function add(a: number, b: number): number {',
      '=======',
      'export function sum(a: number, b: number): number {',
      '>>>>>>> REPLACE',
      '```',
      '### FILE: ./src/b.ts',
      '<<<<<<< SEARCH',
      'import { add } from "./a";',
      'export const three = add(1, 2);',
      '=======',
      'import { sum } from "./a";',
      'export const three = sum(1, 2);',
      '>>>>>>> REPLACE',
      '### FILE: src/new.ts',
      '<<<<<<< SEARCH',
      '=======',
      'export const fresh = true;',
      '>>>>>>> REPLACE',
    ].join('\n');
    const result = await parseProposedEdits(answer, context);
    if (!result.ok) throw new Error(describeProblems(result.problems));
    expect(result.explanation).toBe('I renamed `add` to `sum` everywhere.');
    expect(result.edits.map((edit) => `${edit.kind} ${edit.path}`)).toEqual([
      'modify src/a.ts',
      'modify src/b.ts',
      'create src/new.ts',
    ]);
    expect(result.edits[0]?.updatedText).toContain('export function sum(');
    expect(result.edits[1]?.updatedText).toBe(
      'import { sum } from "./a";\nexport const three = sum(1, 2);\nexport const again = add(1, 2);\n',
    );
    expect(result.edits[2]?.updatedText).toBe('export const fresh = true;\n');
  });

  it('tolerates trailing spaces the model dropped or added, and CRLF files', async () => {
    const answer = '### FILE: src/crlf.ts\n<<<<<<< SEARCH\nconst y = 2;   \n=======\nconst y = 3;\n>>>>>>> REPLACE\n';
    const result = await parseProposedEdits(answer, context);
    expect(result.ok && result.edits[0]?.updatedText).toBe('const x = 1;\nconst y = 3;\n');
  });

  it.each([
    ['no blocks at all', 'Sure! Here is the change: rename add to sum.', 'no "### FILE:" line'],
    [
      'a SEARCH text that is not in the file',
      '### FILE: src/a.ts\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE',
      'not in the file',
    ],
    [
      'an ambiguous SEARCH text',
      '### FILE: src/b.ts\n<<<<<<< SEARCH\nadd(1, 2);\n=======\nx\n>>>>>>> REPLACE',
      'more than once',
    ],
    [
      'an unterminated block',
      '### FILE: src/a.ts\n<<<<<<< SEARCH\nexport const twice = 2;\n=======\nexport const twice = 3;',
      'not closed',
    ],
    [
      'a missing divider',
      '### FILE: src/a.ts\n<<<<<<< SEARCH\nexport const twice = 2;\n>>>>>>> REPLACE',
      'no ======= divider',
    ],
    ['a block before any FILE line', '<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE', 'before any'],
    [
      'a path outside the repository',
      '### FILE: ../etc/passwd\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE',
      'leaves the repository',
    ],
    ['an absolute path', '### FILE: /etc/passwd\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE', 'absolute'],
    [
      'a file that does not exist',
      '### FILE: src/nope.ts\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE',
      'does not exist',
    ],
    [
      'creating a file that exists',
      '### FILE: src/a.ts\n<<<<<<< SEARCH\n=======\nb\n>>>>>>> REPLACE',
      'already exists',
    ],
    [
      'overlapping edits',
      '### FILE: src/a.ts\n<<<<<<< SEARCH\n  return a + b;\n}\n=======\nx\n>>>>>>> REPLACE\n<<<<<<< SEARCH\n}\n\nexport const twice\n=======\ny\n>>>>>>> REPLACE',
      'overlap',
    ],
  ])('rejects %s, and proposes nothing', async (_name, answer, message) => {
    const result = await parseProposedEdits(answer, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(describeProblems(result.problems)).toContain(message);
  });

  it('leaves a refused file out and lists it with its reason; the other files are still proposed', async () => {
    const answer = [
      '### FILE: .env',
      '<<<<<<< SEARCH',
      '=======',
      'KEY=1',
      '>>>>>>> REPLACE',
      '### FILE: src/a.ts',
      '<<<<<<< SEARCH',
      'export const twice = 2;',
      '=======',
      'export const twice = 3;',
      '>>>>>>> REPLACE',
    ].join('\n');
    const read: string[] = [];
    const result = await parseProposedEdits(answer, {
      ...context,
      readText: async (path) => {
        read.push(path);
        return files[path] ?? null;
      },
    });
    if (!result.ok) throw new Error(describeProblems(result.problems));
    expect(result.edits.map((edit) => edit.path)).toEqual(['src/a.ts']);
    expect(result.refused).toEqual([{ line: 2, path: '.env', reason: '.env is off limits.' }]);
    expect(describeRefusals(result.refused)).toBe('1 proposed edit was refused and not offered: .env is off limits.');
    // A refused file is never read.
    expect(read).toEqual(['src/a.ts']);
    const report = refusalReport('rotate the key', result.refused, answer);
    expect(report).toContain('- `.env` (answer line 2): .env is off limits.');
    expect(report).toContain(answer);
  });

  it('lists refusals among the problems when the answer is malformed, so none goes unmentioned', async () => {
    const answer =
      '### FILE: .env\n<<<<<<< SEARCH\n=======\nKEY=1\n>>>>>>> REPLACE\n### FILE: src/a.ts\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE';
    const result = await parseProposedEdits(answer, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((problem) => problem.path)).toEqual(['.env', 'src/a.ts']);
  });

  it('rejects the whole answer when one of several files is bad', async () => {
    const answer = [
      '### FILE: src/a.ts',
      '<<<<<<< SEARCH',
      'export const twice = 2;',
      '=======',
      'export const twice = 3;',
      '>>>>>>> REPLACE',
      '### FILE: src/b.ts',
      '<<<<<<< SEARCH',
      'nothing like this',
      '=======',
      'x',
      '>>>>>>> REPLACE',
    ].join('\n');
    const result = await parseProposedEdits(answer, context);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((problem) => problem.path)).toEqual(['src/b.ts']);
  });
});
