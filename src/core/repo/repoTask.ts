import type { ChatMessage } from '../endpoint';
import type { GenerationSpec, PlanningGenerationService } from '../generation/generationService';
import { promptBudgetFor, requiredWindowTokens } from '../routing/fitCheck';
import { firstCandidateHolds, type RouteCandidate } from '../routing/router';
import { packContext, type CountTokens, type PackResult } from './contextPacker';
import type { EditScope } from './editSafety';
import type { RepoFileSystem } from './repoFileSystem';
import type { RepoIndex } from './repoIndex';
import {
  EXPLAIN_QUERY,
  REPO_ANSWER_TOKENS,
  repoTaskCacheablePrefixChars,
  repoTaskMessages,
  repoTaskOverhead,
  type RepoTaskKind,
} from './repoPrompts';

/** The most context a repository task sends by default, in tokens: beyond this, prefill time and cost outgrow the gain. */
export const DEFAULT_MAX_REPO_CONTEXT_TOKENS = 200_000;

/** The context budget when the long-context model's window is unknown, in tokens (the server refuses if it is smaller). */
export const UNKNOWN_WINDOW_CONTEXT_TOKENS = 32_000;

/** What a repository task is asked. */
export interface RepoTaskInput {
  readonly kind: RepoTaskKind;
  /** The question or the change to make ('' for explain). */
  readonly request: string;
  readonly signal: AbortSignal;
  readonly activePath?: string | null;
  readonly openPaths?: readonly string[];
  readonly recentEdits?: readonly string[];
  /** Upper bound of the context in tokens (setting); defaults to `DEFAULT_MAX_REPO_CONTEXT_TOKENS`. */
  readonly maxContextTokens?: number;
}

/** What a repository task needs around it. */
export interface RepoTaskDeps {
  readonly index: RepoIndex;
  readonly fs: RepoFileSystem;
  readonly countTokens: CountTokens;
  /** The router's plan for a request of this size (the routed service's `plan`). */
  readonly plan: PlanningGenerationService['plan'];
}

/** A prepared repository task: what will be sent, how large, and where the router means to send it. */
export interface PreparedRepoTask {
  readonly messages: readonly ChatMessage[];
  readonly packed: PackResult;
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  /**
   * Where the router means to send it at its final size, and why (unless it fails over); null when no endpoint can
   * take it. The generation service routes again when the task starts.
   */
  readonly route: RouteCandidate | null;
  /** The generation spec to hand to `GenerationService.start`. */
  readonly spec: GenerationSpec;
}

/**
 * Packs the repository for a task into the budget of the endpoint the router would pick for it (the long-context
 * model first, as a `repo` task), and builds the request. The budget is that window minus the answer budget and the
 * estimate's safety margin, capped by `maxContextTokens`.
 */
export async function prepareRepoTask(deps: RepoTaskDeps, input: RepoTaskInput): Promise<PreparedRepoTask> {
  const maxOutputTokens = REPO_ANSWER_TOKENS[input.kind];
  const overheadTokens = deps.countTokens(repoTaskOverhead(input.kind, input.request)) + 16;
  // One plan serves the budget and the route the progress message names: the context is packed to fit its first
  // candidate's window, so asked again at the final size the router would name the same endpoint for the same reason.
  const plan = deps.plan({ task: 'repo', promptTokens: 0, maxOutputTokens });
  const window = plan.candidates[0]?.contextWindow ?? null;
  const cap = input.maxContextTokens ?? DEFAULT_MAX_REPO_CONTEXT_TOKENS;
  const windowBudget =
    window === null ? UNKNOWN_WINDOW_CONTEXT_TOKENS : promptBudgetFor(window, maxOutputTokens) - overheadTokens;
  const budgetTokens = Math.max(0, Math.min(cap, windowBudget));
  const query = input.kind === 'explain' ? `${EXPLAIN_QUERY} ${input.request}` : input.request;
  const packed = await packContext(
    deps.index,
    deps.fs,
    {
      query,
      budgetTokens,
      activePath: input.activePath ?? null,
      openPaths: input.openPaths ?? [],
      recentEdits: input.recentEdits ?? [],
      signal: input.signal,
    },
    deps.countTokens,
  );
  const messages = repoTaskMessages(input.kind, packed.text, input.request);
  // The stable prefix (instructions, map, core files) comes first and the request last, so a provider caches it: where
  // caching is explicit (Anthropic `cache_control`) the adapter marks its end; where it is automatic (OpenAI-style
  // prefix caching, vLLM/SGLang, llama.cpp `cache_prompt`, which its adapter always sends) it only has to stay the same.
  const cacheablePrefixChars = repoTaskCacheablePrefixChars(input.kind, packed.stablePrefixChars);
  const promptTokens = packed.tokens + overheadTokens;
  const spec: GenerationSpec = {
    task: 'repo',
    signal: input.signal,
    promptTokens,
    maxOutputTokens,
    build: (endpoint) => ({
      target: endpoint.target,
      request: { messages, maxTokens: maxOutputTokens, temperature: 0.2, cacheablePrefixChars },
    }),
  };
  // Only a window too small for even the instructions and the answer (the budget floors at 0), or an earlier endpoint
  // whose rest made it skipped where it is now too small (a different reason), needs the router asked again.
  const final = firstCandidateHolds(plan, requiredWindowTokens(promptTokens, maxOutputTokens))
    ? plan
    : deps.plan({ task: 'repo', promptTokens, maxOutputTokens });
  return { messages, packed, promptTokens, maxOutputTokens, route: final.candidates[0] ?? null, spec };
}

/**
 * What a repository refactor's edits are judged against (`editSafety.ts`): the request as typed, the files whose text
 * the prompt held (a name in the map is not enough), and the index's ignore rules and size limit.
 */
export function editScopeOf(index: RepoIndex, packed: PackResult, request: string): EditScope {
  return {
    request,
    shownFiles: new Set(packed.sections.map((section) => section.path)),
    isIgnored: (path) => index.isIgnored(path),
    maxFileBytes: index.maxFileBytes,
  };
}
