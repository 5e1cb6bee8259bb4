import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendRole, ResolvedEndpoint } from '../../../../src/core/endpoint';
import { nodeRepoFileSystem } from '../../../../src/core/repo/nodeRepoFileSystem';
import { RepoIndex } from '../../../../src/core/repo/repoIndex';
import { prepareRepoTask, type RepoTaskDeps } from '../../../../src/core/repo/repoTask';
import { planRoute, type RouteQuery } from '../../../../src/core/routing/router';
import { countTokens } from '../../../../src/core/stream/tokenCount';
import { resolvedEndpoint } from '../../builders/endpoints';
import { makeTree, removeTree } from './repoTestTree';

function endpoint(role: BackendRole, index: number, contextWindow: number | null): ResolvedEndpoint {
  return resolvedEndpoint({ id: `${role}#${index}`, role, label: `${role} ${index}`, contextWindow, simulated: true });
}

let root = '';
let index: RepoIndex;

beforeAll(async () => {
  // About 3,000 tokens of code: more than a 5k window holds beside a 4,096-token answer.
  const files: Record<string, string> = {};
  for (let file = 0; file < 6; file += 1) {
    files[`src/limiter${file}.ts`] = Array.from(
      { length: 40 },
      (_, line) => `export function rateLimit${file}_${line}(tokens: number): number { return tokens * ${line}; }`,
    ).join('\n');
  }
  root = makeTree(files);
  index = new RepoIndex(nodeRepoFileSystem(root));
  await index.build();
});

afterAll(() => removeTree(root));

/** A planner over fixed endpoints that counts how often it is asked, as the routed service's `plan` would answer. */
function countingPlanner(endpoints: readonly ResolvedEndpoint[], resting: Readonly<Record<string, number>> = {}) {
  const queries: RouteQuery[] = [];
  const plan = (query: RouteQuery) => {
    queries.push(query);
    return planRoute(query, endpoints, {
      windowOf: (e) => e.contextWindow,
      restRemainingMs: (e) => resting[e.id] ?? 0,
    });
  };
  return { queries, plan };
}

async function prepareWith(planner: ReturnType<typeof countingPlanner>) {
  const deps: RepoTaskDeps = { index, fs: nodeRepoFileSystem(root), countTokens, plan: planner.plan };
  return prepareRepoTask(deps, {
    kind: 'ask',
    request: 'how are rate limits applied?',
    signal: new AbortController().signal,
  });
}

describe('prepareRepoTask routing', () => {
  it('asks the router once: the plan that sized the context names where it goes', async () => {
    const endpoints = [endpoint('burst', 0, 8_192), endpoint('longContext', 0, 200_000)];
    const planner = countingPlanner(endpoints);
    const prepared = await prepareWith(planner);

    expect(planner.queries).toHaveLength(1);
    expect(prepared.packed.files).toBe(6);
    const atFinalSize = planRoute(
      { task: 'repo', promptTokens: prepared.promptTokens, maxOutputTokens: prepared.maxOutputTokens },
      endpoints,
      { windowOf: (e) => e.contextWindow, restRemainingMs: () => 0 },
    );
    expect(prepared.route).toEqual(atFinalSize.candidates[0]);
    expect(prepared.route?.reason).toBe('repo-task');
  });

  it('names no backend, still asking once, when none is configured', async () => {
    const planner = countingPlanner([]);
    const prepared = await prepareWith(planner);
    expect(planner.queries).toHaveLength(1);
    expect(prepared.route).toBeNull();
  });

  it.each([
    [
      'a window too small for even the instructions beside the answer',
      [endpoint('longContext', 0, 4_200), endpoint('burst', 0, 32_768)],
      {},
      'burst#0:too-long',
    ],
    [
      'a resting endpoint now too small for the context',
      [endpoint('longContext', 0, 5_000), endpoint('longContext', 1, 200_000)],
      { 'longContext#0': 5_000 },
      'longContext#1:too-long',
    ],
  ])(
    'asks again at the final size for %s, naming what that plan names',
    async (_name, endpoints, resting, expected) => {
      const planner = countingPlanner(endpoints, resting);
      const prepared = await prepareWith(planner);

      expect(planner.queries).toHaveLength(2);
      expect(planner.queries[1]).toEqual({
        task: 'repo',
        promptTokens: prepared.promptTokens,
        maxOutputTokens: prepared.maxOutputTokens,
      });
      expect(`${prepared.route?.endpoint.id}:${prepared.route?.reason}`).toBe(expected);
    },
  );
});

describe('prepareRepoTask and the prompt cache', () => {
  it('sends how much of the prompt is stable, and two questions share exactly that much and more', async () => {
    const endpoints = [endpoint('longContext', 0, 200_000)];
    const deps: RepoTaskDeps = {
      index,
      fs: nodeRepoFileSystem(root),
      countTokens,
      plan: countingPlanner(endpoints).plan,
    };
    const ask = async (request: string) => {
      const prepared = await prepareRepoTask(deps, { kind: 'ask', request, signal: new AbortController().signal });
      const sent = prepared.spec.build(endpoints[0] ?? endpoint('longContext', 0, null)).request;
      const text = (sent.messages ?? []).map((message) => message.content).join('');
      return { marked: sent.cacheablePrefixChars ?? 0, text };
    };
    const first = await ask('how are rate limits applied?');
    const second = await ask('which limiter multiplies tokens by the line number?');
    expect(second.marked).toBeGreaterThan(0.5 * second.text.length);
    expect(second.text.slice(0, second.marked)).toBe(first.text.slice(0, first.marked));
    // The question is never inside the marked prefix.
    expect(second.text.slice(0, second.marked)).not.toContain('line number');
  });
});
