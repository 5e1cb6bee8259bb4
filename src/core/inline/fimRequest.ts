import type { ChatMessage, EndpointTarget, GenerationRequest, ResolvedEndpoint } from '../endpoint';
import type { GenerationPlan } from '../generation/generationService';
import type { FimPath } from './fimPaths';
import { detectFimFamily, fimTemplate } from './fimTemplates';
import type { ContextSnippet } from './fimTemplates';

/** The hole to fill, already cut to its token windows. */
export interface FimPrompt {
  readonly prefix: string;
  readonly suffix: string;
  /** Workspace-relative path of the file. */
  readonly path: string;
  readonly repoName: string;
  readonly languageId: string;
  readonly snippets: readonly ContextSnippet[];
  /** Indentation of the cursor's line in columns (llama.cpp `n_indent`). */
  readonly indentColumns: number;
}

/** How much to generate: from the backend's measured speed (see `adaptiveBudget.ts`). */
export interface FimBudget {
  readonly maxTokens: number;
  /** llama.cpp `t_max_predict_ms`: a cap on decode time once a newline has come, in ms. */
  readonly timeLimitMs: number;
}

/** The marker the chat prompt puts in the hole. */
export const CHAT_HOLE_MARKER = '{{FILL_HERE}}';

const CHAT_SYSTEM_PROMPT =
  `You complete code. The user sends a file with one hole marked ${CHAT_HOLE_MARKER}. ` +
  'Reply with ONLY the text that replaces the marker: no explanation, no Markdown fences, no repeat of the code around it.';

// Raw-prompt endpoints return the text after the prompt; FIM answers should be deterministic.
const TEMPERATURE = 0;

function trimSlash(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

/** The OpenAI-compatible base URL of an endpoint: llama.cpp serves it under `/v1` of its root. */
function openAiBase(target: EndpointTarget): string {
  const base = trimSlash(target.baseUrl);
  return target.protocol === 'llamacpp-infill' ? `${base}/v1` : base;
}

/** Snippets as comment lines, for paths where the server applies its own template and has no slot for other files. */
function snippetsAsComments(prompt: FimPrompt): string {
  if (prompt.snippets.length === 0) return '';
  const comment = lineComment(prompt.languageId);
  return prompt.snippets
    .map((snippet) =>
      [`Path: ${snippet.path}`, ...snippet.text.split('\n')].map((line) => `${comment} ${line}`).join('\n'),
    )
    .join('\n')
    .concat('\n');
}

const HASH_COMMENT_LANGUAGES = new Set([
  'python',
  'shellscript',
  'ruby',
  'perl',
  'r',
  'yaml',
  'toml',
  'makefile',
  'dockerfile',
  'powershell',
  'elixir',
  'julia',
]);

function lineComment(languageId: string): string {
  if (HASH_COMMENT_LANGUAGES.has(languageId)) return '#';
  if (languageId === 'lua' || languageId === 'sql' || languageId === 'haskell') return '--';
  return '//';
}

function chatMessages(prompt: FimPrompt): readonly ChatMessage[] {
  const others = prompt.snippets.map((snippet) => `File ${snippet.path}:\n${snippet.text}`).join('\n\n');
  const file = `File ${prompt.path} (${prompt.languageId}):\n${prompt.prefix}${CHAT_HOLE_MARKER}${prompt.suffix}`;
  return [
    { role: 'system', content: CHAT_SYSTEM_PROMPT },
    { role: 'user', content: others.length === 0 ? file : `${others}\n\n${file}` },
  ];
}

/**
 * Shapes the request for one endpoint and FIM path. Null when the path cannot be used with this endpoint (a template
 * path for a model whose family is unknown). `stop` ends the answer on the server (a single-line request stops at the
 * line's end); a template's own stop tokens are kept beside it.
 */
export function buildFimPlan(
  endpoint: ResolvedEndpoint,
  path: FimPath,
  prompt: FimPrompt,
  budget: FimBudget,
  stop: readonly string[] = [],
): GenerationPlan | null {
  const { target } = endpoint;
  const common = { maxTokens: budget.maxTokens, temperature: TEMPERATURE, ...(stop.length > 0 ? { stop } : {}) };
  switch (path) {
    case 'llamacpp-infill': {
      const request: GenerationRequest = {
        ...common,
        prompt: prompt.prefix,
        suffix: prompt.suffix,
        extraContext: prompt.snippets.map((snippet) => ({ filename: snippet.path, text: snippet.text })),
        extraBody: { cache_prompt: true, n_indent: prompt.indentColumns, t_max_predict_ms: budget.timeLimitMs },
      };
      return { target: { ...target, protocol: 'llamacpp-infill' }, request };
    }
    case 'openai-suffix':
      return {
        target: { ...target, baseUrl: openAiBase(target), protocol: 'openai-completions' },
        request: { ...common, prompt: snippetsAsComments(prompt) + prompt.prefix, suffix: prompt.suffix },
      };
    case 'mistral-fim':
      // Mistral's `/v1/fim/completions` takes `prompt` + `suffix` like `/v1/completions` one folder down.
      return {
        target: { ...target, baseUrl: `${openAiBase(target)}/fim`, protocol: 'openai-completions' },
        request: { ...common, prompt: snippetsAsComments(prompt) + prompt.prefix, suffix: prompt.suffix },
      };
    case 'ollama-suffix':
      return {
        target: { ...target, protocol: 'ollama-generate' },
        request: { ...common, prompt: snippetsAsComments(prompt) + prompt.prefix, suffix: prompt.suffix },
      };
    case 'template': {
      const family = detectFimFamily(target.model);
      if (family === null) return null;
      const template = fimTemplate(family);
      const raw = template.build(prompt);
      const isOllama = target.protocol === 'ollama-generate' || target.protocol === 'ollama-chat';
      if (isOllama) {
        // `raw` stops Ollama from wrapping the prompt in the model's chat template.
        return {
          target: { ...target, protocol: 'ollama-generate' },
          request: { ...common, prompt: raw, stop: [...template.stop, ...stop], extraBody: { raw: true } },
        };
      }
      return {
        target: { ...target, baseUrl: openAiBase(target), protocol: 'openai-completions' },
        request: { ...common, prompt: raw, stop: [...template.stop, ...stop] },
      };
    }
    case 'chat': {
      const protocol =
        target.protocol === 'anthropic'
          ? 'anthropic'
          : target.protocol === 'ollama-generate' || target.protocol === 'ollama-chat'
            ? 'ollama-chat'
            : 'openai-chat';
      const baseUrl = protocol === 'openai-chat' ? openAiBase(target) : target.baseUrl;
      // No line stop: a chat model may open its answer with a Markdown fence line. The client reads until the line is whole.
      return {
        target: { ...target, baseUrl, protocol },
        request: { maxTokens: budget.maxTokens, temperature: TEMPERATURE, messages: chatMessages(prompt) },
      };
    }
  }
}
