import type { BackendRole, FimSupport, ProtocolId } from '../endpoint';
import type { EndpointPrice } from '../price';

/** Whether an endpoint needs an API key: cloud providers always; local servers only when started with one. */
export type ApiKeyNeed = 'required' | 'optional' | 'none';

/** A provider preset: what a person picks before pasting a key. Every field is a documented fact or null. */
export interface BackendPreset {
  /** Stable id used in settings (`"preset": "cerebras"`). Never rename one: settings refer to it. */
  readonly id: string;
  /** The provider's name as people know it. */
  readonly name: string;
  /** The base URL as the provider documents it (OpenAI-compatible: ends in `/v1`; llama.cpp, Ollama, Anthropic: root). */
  readonly baseUrl: string;
  readonly protocol: ProtocolId;
  /**
   * A sensible model to start with, or null where the server serves whatever it was started with (vLLM, SGLang,
   * LM Studio): then the person must name it. Provider catalogues change; the model is always editable.
   */
  readonly defaultModel: string | null;
  /** Context window of the default model in tokens; null when it varies (by tier, by model) and is detected later. */
  readonly contextWindow: number | null;
  readonly fim: FimSupport;
  /**
   * True only where the provider documents OpenAI-style `prediction: {type: "content", content}` on chat completions
   * (predicted outputs); each true one names its page. A server that does not take it may refuse the field, so a
   * guess is false: a person can still turn it on per entry with `"predictedOutputs": true`.
   */
  readonly predictedOutputs: boolean;
  readonly apiKey: ApiKeyNeed;
  /** Where to get a key, or null when none is needed. */
  readonly keyUrl: string | null;
  /** The role it suits best; offered first in that role's picker. */
  readonly suggestedRole: BackendRole;
  /** Runs on the person's own machine (no key, loopback URL). */
  readonly local: boolean;
  /** One line shown in the picker. */
  readonly detail: string;
  /**
   * What the default model costs: the provider's published input, cached-input and output prices per million tokens
   * with the date they were read (each names its page), `free` for a server the person runs, or `unknown` where no
   * published price was found: never a guess, never zero. An entry naming another model gets `unknown` (the price was
   * read for this one), unless it gives its own `price`.
   */
  readonly price: EndpointPrice;
}

const UNKNOWN: EndpointPrice = { kind: 'unknown' };
const SELF_HOSTED: EndpointPrice = { kind: 'free', why: 'self-hosted' };

/** A provider's published prices in dollars per million tokens, read on `readOn`. */
function published(input: number, cachedInput: number | null, output: number, readOn: string): EndpointPrice {
  return {
    kind: 'priced',
    prices: { inputPerMillion: input, cachedInputPerMillion: cachedInput, outputPerMillion: output },
    source: 'preset',
    readOn,
  };
}

/**
 * The presets, in picker order: burst providers first, then general ones, then local servers.
 * Base URLs and key pages come from each provider's own documentation. Context windows are given only where the
 * provider documents one number for the default model; elsewhere null, and the endpoint's own answer (`/v1/models`,
 * `/props`, `/api/show`) fills it in (issue 7).
 */
export const PRESETS: readonly BackendPreset[] = [
  {
    id: 'cerebras',
    name: 'Cerebras',
    baseUrl: 'https://api.cerebras.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'gpt-oss-120b',
    // The free tier has a smaller window than paid tiers.
    contextWindow: null,
    fim: 'chat',
    // Predicted outputs: inference-docs.cerebras.ai/capabilities/predicted-outputs (public preview; gpt-oss-120b and
    // zai-glm-4.7).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://cloud.cerebras.ai',
    suggestedRole: 'burst',
    local: false,
    detail: 'Wafer-scale inference, thousands of tokens/s.',
    // No price page of Cerebras' own was found for gpt-oss-120b (only resellers' and aggregators' figures, which differ).
    price: UNKNOWN,
  },
  {
    id: 'groq',
    name: 'Groq',
    baseUrl: 'https://api.groq.com/openai/v1',
    protocol: 'openai-chat',
    defaultModel: 'llama-3.1-8b-instant',
    contextWindow: null,
    fim: 'chat',
    // Groq's OpenAI-compatibility page does not list `prediction`.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.groq.com/keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'LPU inference, OpenAI-compatible.',
    // No price page of Groq's own was found for llama-3.1-8b-instant (only third-party copies).
    price: UNKNOWN,
  },
  {
    id: 'sambanova',
    name: 'SambaNova',
    baseUrl: 'https://api.sambanova.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'Meta-Llama-3.3-70B-Instruct',
    contextWindow: null,
    fim: 'chat',
    // SambaNova's chat completions reference does not list `prediction`.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://cloud.sambanova.ai/apis',
    suggestedRole: 'burst',
    local: false,
    detail: 'RDU inference, OpenAI-compatible.',
    // No price page of SambaNova's own was found for Meta-Llama-3.3-70B-Instruct (only third-party copies).
    price: UNKNOWN,
  },
  {
    id: 'openrouter',
    name: 'OpenRouter',
    baseUrl: 'https://openrouter.ai/api/v1',
    protocol: 'openai-chat',
    defaultModel: 'openai/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    // Not documented as a parameter OpenRouter passes on.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://openrouter.ai/keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'One key for many providers; /v1/models reports each context length.',
    // OpenRouter's price depends on which provider serves the request; set "price" on the entry to count it.
    price: UNKNOWN,
  },
  {
    id: 'together',
    name: 'Together AI',
    baseUrl: 'https://api.together.xyz/v1',
    protocol: 'openai-chat',
    defaultModel: 'openai/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://api.together.ai/settings/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Open models, OpenAI-compatible.',
    // No price page of Together's own was found for openai/gpt-oss-120b (only third-party copies).
    price: UNKNOWN,
  },
  {
    id: 'fireworks',
    name: 'Fireworks AI',
    baseUrl: 'https://api.fireworks.ai/inference/v1',
    protocol: 'openai-chat',
    defaultModel: 'accounts/fireworks/models/gpt-oss-120b',
    contextWindow: null,
    fim: 'chat',
    // Predicted outputs: docs.fireworks.ai/guides/predicted-outputs (the prediction counts against max_tokens).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://fireworks.ai/account/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Open models, OpenAI-compatible.',
    // docs.fireworks.ai/serverless/pricing (Standard tier, "OpenAI GPT OSS 120B": input / cached input / output); the
    // page shows no date: read 2026-12-03.
    price: published(0.15, 0.015, 0.6, '2026-12-03'),
  },
  {
    id: 'deepseek',
    name: 'DeepSeek',
    // DeepSeek serves fill-in-the-middle (`/completions` with `suffix`) only under its `/beta` base URL, which also
    // serves chat; its documented root is https://api.deepseek.com.
    baseUrl: 'https://api.deepseek.com/beta',
    protocol: 'openai-chat',
    defaultModel: 'deepseek-chat',
    contextWindow: null,
    fim: 'openai-suffix',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.deepseek.com/api_keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'DeepSeek chat with native fill-in-the-middle (beta endpoint).',
    // api-docs.deepseek.com/quick_start/pricing-details-usd (deepseek-chat: cache miss $0.27, cache hit $0.07, output
    // $1.10); the page shows no date: read 2026-12-03.
    price: published(0.27, 0.07, 1.1, '2026-12-03'),
  },
  {
    id: 'codestral',
    name: 'Mistral Codestral',
    // The Codestral endpoint takes a Codestral key (console: Codestral section); a La Plateforme key uses `mistral`.
    baseUrl: 'https://codestral.mistral.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'codestral-latest',
    contextWindow: null,
    fim: 'mistral-fim',
    // Mistral documents predicted outputs for La Plateforme models, not for this Codestral-key endpoint.
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.mistral.ai/codestral',
    suggestedRole: 'burst',
    local: false,
    detail: 'Codestral with native fill-in-the-middle (/v1/fim/completions), Codestral key.',
    // No price page of Mistral's own was found for codestral-latest (only third-party copies).
    price: UNKNOWN,
  },
  {
    id: 'mistral',
    name: 'Mistral (La Plateforme)',
    baseUrl: 'https://api.mistral.ai/v1',
    protocol: 'openai-chat',
    defaultModel: 'codestral-latest',
    contextWindow: null,
    fim: 'mistral-fim',
    // Predicted outputs: docs.mistral.ai/capabilities/predicted-outputs (codestral-2501, mistral-large-2411).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://console.mistral.ai/api-keys',
    suggestedRole: 'burst',
    local: false,
    detail: 'Mistral models incl. Codestral FIM, La Plateforme key.',
    // No price page of Mistral's own was found for codestral-latest (only third-party copies).
    price: UNKNOWN,
  },
  {
    id: 'minimax',
    name: 'MiniMax',
    baseUrl: 'https://api.minimax.io/v1',
    protocol: 'openai-chat',
    defaultModel: 'MiniMax-M2.7',
    // MiniMax documents 204,800 tokens for every M2.x model.
    contextWindow: 204_800,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.minimax.io/user-center/basic-information/interface-key',
    suggestedRole: 'longContext',
    local: false,
    detail: 'Long-context reasoning models (international platform).',
    // MiniMax's pay-as-you-go page was not found (only third-party copies of it).
    price: UNKNOWN,
  },
  {
    id: 'xiaomi-mimo',
    name: 'Xiaomi MiMo',
    baseUrl: 'https://api.xiaomimimo.com/v1',
    protocol: 'openai-chat',
    defaultModel: 'mimo-v2.5-pro',
    contextWindow: null,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://platform.xiaomimimo.com/#/console/api-keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'MiMo models, OpenAI-compatible (thinking on by default).',
    // Xiaomi announced mimo-v2.5-pro prices in yuan only; no dollar price page was found.
    price: UNKNOWN,
  },
  {
    id: 'openai',
    name: 'OpenAI',
    baseUrl: 'https://api.openai.com/v1',
    protocol: 'openai-chat',
    defaultModel: 'gpt-4.1-mini',
    // OpenAI documents 1,047,576 tokens for the GPT-4.1 family.
    contextWindow: 1_047_576,
    fim: 'chat',
    // Predicted outputs: OpenAI's Predicted Outputs guide (gpt-4o, gpt-4o-mini and the gpt-4.1 family).
    predictedOutputs: true,
    apiKey: 'required',
    keyUrl: 'https://platform.openai.com/api-keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'OpenAI models; a good long-context fallback.',
    // OpenAI's own pricing page was not found (third-party copies of gpt-4.1-mini disagree with each other).
    price: UNKNOWN,
  },
  {
    id: 'anthropic',
    name: 'Anthropic',
    baseUrl: 'https://api.anthropic.com',
    protocol: 'anthropic',
    defaultModel: 'claude-sonnet-4-5',
    contextWindow: 200_000,
    fim: 'chat',
    predictedOutputs: false,
    apiKey: 'required',
    keyUrl: 'https://console.anthropic.com/settings/keys',
    suggestedRole: 'longContext',
    local: false,
    detail: 'Claude via the Messages API; a good long-context fallback.',
    // platform.claude.com/docs/en/models/sonnet-4-5/overview: $3 input, $15 output per MTok; the page shows no date:
    // read 2026-12-03. Its cache-hit price was not read on Anthropic's own page, so cached tokens count as input (an
    // upper bound, never low).
    price: published(3, null, 15, '2026-12-03'),
  },
  {
    id: 'ollama',
    name: 'Ollama',
    baseUrl: 'http://127.0.0.1:11434',
    protocol: 'ollama-generate',
    defaultModel: 'qwen2.5-coder:1.5b-base',
    // Ollama reports the loaded model's window at /api/show.
    contextWindow: null,
    fim: 'ollama-suffix',
    predictedOutputs: false,
    apiKey: 'none',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'Local models; fill-in-the-middle through /api/generate with suffix.',
    price: SELF_HOSTED,
  },
  {
    id: 'llamacpp',
    name: 'llama.cpp server',
    baseUrl: 'http://127.0.0.1:8080',
    protocol: 'llamacpp-infill',
    // llama-server serves the one model it was started with and ignores the name.
    defaultModel: 'default',
    contextWindow: null,
    fim: 'llamacpp-infill',
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'llama-server with /infill; a key only when started with --api-key.',
    price: SELF_HOSTED,
  },
  {
    id: 'vllm',
    name: 'vLLM',
    baseUrl: 'http://127.0.0.1:8000/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    // vLLM's OpenAI server does not take `prediction` (its feature requests were closed unimplemented).
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'vLLM OpenAI-compatible server (default port 8000); name the model it serves.',
    price: SELF_HOSTED,
  },
  {
    id: 'sglang',
    name: 'SGLang',
    baseUrl: 'http://127.0.0.1:30000/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    predictedOutputs: false,
    apiKey: 'optional',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'SGLang OpenAI-compatible server (default port 30000); name the model it serves.',
    price: SELF_HOSTED,
  },
  {
    id: 'lmstudio',
    name: 'LM Studio',
    baseUrl: 'http://127.0.0.1:1234/v1',
    protocol: 'openai-chat',
    defaultModel: null,
    contextWindow: null,
    fim: 'auto',
    predictedOutputs: false,
    apiKey: 'none',
    keyUrl: null,
    suggestedRole: 'burst',
    local: true,
    detail: 'LM Studio local server (default port 1234); name the loaded model.',
    price: SELF_HOSTED,
  },
];

/** The preset with `id`, or undefined. */
export function findPreset(id: string): BackendPreset | undefined {
  return PRESETS.find((preset) => preset.id === id);
}

/** Every preset id, for validation and the package.json enum. */
export function presetIds(): readonly string[] {
  return PRESETS.map((preset) => preset.id);
}
