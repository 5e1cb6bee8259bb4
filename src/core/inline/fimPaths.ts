import type { ResolvedEndpoint } from '../endpoint';
import { detectFimFamily } from './fimTemplates';

/** A concrete way to ask an endpoint for fill-in-the-middle (every `FimSupport` except `auto` and `none`). */
export type FimPath = 'llamacpp-infill' | 'openai-suffix' | 'ollama-suffix' | 'mistral-fim' | 'template' | 'chat';

/**
 * The paths worth trying for an endpoint, best first. A pinned `fim` setting gives exactly that path; `auto` gives the
 * native paths its protocol can offer, then a family template (only when the model's family is known, never guessed),
 * then the hole-filling chat prompt that every chat model can answer.
 */
export function fimCandidates(endpoint: ResolvedEndpoint): readonly FimPath[] {
  const { fim } = endpoint;
  if (fim === 'none') return [];
  if (fim !== 'auto') return [fim];
  const hasFamily = detectFimFamily(endpoint.target.model) !== null;
  const template: readonly FimPath[] = hasFamily ? ['template'] : [];
  switch (endpoint.target.protocol) {
    case 'llamacpp-infill':
      return ['llamacpp-infill', 'openai-suffix', ...template, 'chat'];
    case 'openai-completions':
      return ['openai-suffix', ...template, 'chat'];
    case 'openai-chat':
      // Chat-first providers: many also serve /completions with `suffix` (DeepSeek beta, vLLM, llama.cpp); the probe finds out.
      return ['openai-suffix', ...template, 'chat'];
    case 'ollama-generate':
    case 'ollama-chat':
      return ['ollama-suffix', ...template, 'chat'];
    case 'anthropic':
      return ['chat'];
  }
}

/** HTTP statuses that mean "this server does not offer that path": move on to the next candidate. */
export const PATH_NOT_OFFERED_STATUSES: ReadonlySet<number> = new Set([404, 405, 501]);
