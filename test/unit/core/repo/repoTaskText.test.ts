import { describe, expect, it } from 'vitest';
import { FILL_REASON, type PackedSection } from '../../../../src/core/repo/contextPacker';
import type { PreparedRepoTask } from '../../../../src/core/repo/repoTask';
import { formatCount, packedFiles, repoAnswerFooter, sendingMessage } from '../../../../src/core/repo/repoTaskText';
import { resolvedEndpoint } from '../../builders/endpoints';

const longContext = resolvedEndpoint({
  id: 'longContext#0',
  role: 'longContext',
  label: 'Long context 0',
  contextWindow: 200_000,
  simulated: true,
});

function section(path: string, why: readonly string[], startLine = 0): PackedSection {
  return { path, startLine, endLine: startLine + 10, tokens: 100, why };
}

function preparedWith(sections: readonly PackedSection[], mapFiles: number, withRoute = true): PreparedRepoTask {
  return {
    messages: [],
    packed: {
      text: '',
      stablePrefixChars: 0,
      tokens: 183_000,
      stableTokens: 0,
      sections,
      files: new Set(sections.map((entry) => entry.path)).size,
      mapTokens: 0,
      mapFiles,
      omittedFiles: 0,
    },
    promptTokens: 183_402,
    maxOutputTokens: 4_096,
    route: withRoute ? { endpoint: longContext, reason: 'repo-task', contextWindow: 200_000 } : null,
    spec: {
      task: 'repo',
      signal: new AbortController().signal,
      promptTokens: 183_402,
      maxOutputTokens: 4_096,
      build: (endpoint) => ({ target: endpoint.target, request: { messages: [], maxTokens: 4_096 } }),
    },
  };
}

const link = (path: string): string => `file:///repo/${path}`;

describe('repository task text', () => {
  it('formats counts rounded, with thousands separators', () => {
    expect(formatCount(183_401.6)).toBe('183,402');
    expect(formatCount(12)).toBe('12');
  });

  it('says what is sent, how large and to which model', () => {
    const sections = [section('src/a.ts', ['matches the request']), section('src/b.ts', ['open editor'])];
    expect(sendingMessage(preparedWith(sections, 1_203))).toBe(
      'Sending 183,402 tokens (2 files + a map of 1,203) to Long context 0 (repo-task)',
    );
    expect(sendingMessage(preparedWith(sections, 0, false))).toBe('Sending 183,402 tokens (2 files) to no backend');
  });

  it('lists the packed files once each, in packing order', () => {
    const sections = [section('b.ts', ['x']), section('a.ts', ['x']), section('b.ts', ['x'], 40)];
    expect(packedFiles(preparedWith(sections, 0))).toEqual(['b.ts', 'a.ts']);
  });

  it('ends an answer with the model, the context size and the chosen files as links; filler files are counted', () => {
    const sections = [
      section('src/limiter.ts', ['matches the request']),
      section('src/limiter.ts', ['matches the request'], 50),
      section('README.md', [FILL_REASON]),
      section('src/app.ts', ['import neighbour']),
    ];
    const footer = repoAnswerFooter(
      preparedWith(sections, 1_203),
      { endpoint: longContext, reason: 'repo-task' },
      link,
    );
    expect(footer).toBe(
      '\n\n---\n_Long context 0 (repo-task); 183,402 tokens of context from 3 files and a map of 1,203._\n\n' +
        'Context: [src/limiter.ts](file:///repo/src/limiter.ts), [src/app.ts](file:///repo/src/app.ts); ' +
        '1 more files fill the rest of the budget\n',
    );
  });

  it('links a dozen chosen files at most, and names no model when none served', () => {
    const sections = Array.from({ length: 15 }, (_, index) => section(`f${index}.ts`, ['matches the request']));
    const footer = repoAnswerFooter(preparedWith(sections, 0), null, link);
    expect(footer.startsWith('\n\n---\n_Unknown model (); 183,402 tokens of context from 15 files._\n\n')).toBe(true);
    expect(footer).toContain('[f11.ts](file:///repo/f11.ts) and 3 more\n');
    expect(footer).not.toContain('f12.ts');
  });

  it('counts filler files alone when nothing was chosen', () => {
    const footer = repoAnswerFooter(
      preparedWith([section('README.md', [FILL_REASON])], 0),
      { endpoint: longContext, reason: 'repo-task' },
      link,
    );
    expect(footer.endsWith('Context: 1 more files fill the rest of the budget\n')).toBe(true);
  });
});
