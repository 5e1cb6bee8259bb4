import type { IncomingHttpHeaders } from 'node:http';
import { parseContinuation, type SimContinuationMode, type SimContinuationSpec } from './continuation';
import { NEXT_EDIT_SIM_FAULTS, type NextEditSimFault } from './nextEditAnswer';

/** The wire protocols the simulator speaks (the extension's `ProtocolId`s, plus llama.cpp's plain `/completion`). */
export type SimProtocol =
  | 'openai-chat'
  | 'openai-completions'
  | 'llamacpp-infill'
  | 'llamacpp-completion'
  | 'ollama-generate'
  | 'ollama-chat'
  | 'anthropic';

/**
 * A fault the simulator injects into a request.
 * - `429`, `500`, `503`: an error status with the protocol's own error body (429 carries Retry-After).
 * - `disconnect`: destroy the socket after `afterTokens` tokens.
 * - `stall`: stop writing after `afterTokens` tokens and keep the socket open until the client leaves.
 * - `malformed`: a garbage event after `afterTokens` tokens (then the stream goes on).
 * - `split-utf8`: a multi-byte character is written split across two socket writes with a gap between them.
 */
export type SimFault =
  | { readonly kind: '429' | '500' | '503' }
  | { readonly kind: 'disconnect' | 'stall' | 'malformed'; readonly afterTokens: number }
  | { readonly kind: 'split-utf8' };

/**
 * Server-side timings an OpenAI-compatible stream carries on its finish chunk, as some providers send them:
 * Groq `x_groq.usage`, Cerebras `usage` + `time_info` (seconds), llama.cpp `timings` (ms); `none` for plain OpenAI.
 */
export type SimServerTimings = 'none' | 'groq' | 'cerebras' | 'llamacpp';

const SERVER_TIMINGS: readonly SimServerTimings[] = ['none', 'groq', 'cerebras', 'llamacpp'];

/** How a chat answer is wrapped: a sentence and a ``` fence (realistic for refactors), or the bare code. */
export type SimChatStyle = 'fenced' | 'plain';

/** What `completionFor` is told about a request, so it can choose the text to generate. */
export interface SimCompletionRequest {
  readonly protocol: SimProtocol;
  readonly path: string;
  readonly model: string;
  /** Everything the model is given, joined: chat messages, or prefix (+ suffix and extra context for FIM). */
  readonly promptText: string;
  /** The text before the cursor for completion/infill requests (the last user message for chat). */
  readonly prefix: string;
  /** The text after the cursor for fill-in-the-middle, else ''. */
  readonly suffix: string;
  readonly messages: readonly { readonly role: string; readonly content: string }[];
  /** The request body as parsed JSON. */
  readonly body: Readonly<Record<string, unknown>>;
}

/** Server-wide defaults; every field but `port` and `log` can be overridden per request by an `x-sim-*` header. */
export interface SimulatorOptions {
  /** TCP port on 127.0.0.1; 0 (the default) picks a free one. */
  port?: number;
  /** Time to first token, in ms, measured from the end of the request body. */
  ttftMs?: number;
  /** Decode rate, in cl100k tokens per second. */
  tokensPerSec?: number;
  /** Tokens grouped into one event (SSE event or NDJSON line). */
  tokensPerEvent?: number;
  /** Send an OpenAI role-only chunk (and Anthropic's message_start) at once, before the TTFT has passed. */
  roleChunk?: boolean;
  /** Send usage when the client asks for it (`stream_options.include_usage`). */
  sendUsage?: boolean;
  /** The context window in tokens: reported by /v1/models, /props, /api/show, and enforced. */
  contextWindow?: number;
  /**
   * A server-wide prompt cache, as hosted providers, vLLM/SGLang and llama.cpp keep one: a prompt's prefix shared with
   * any of the last few prompts is served from it, reported in each protocol's usage (OpenAI
   * `prompt_tokens_details.cached_tokens`, Anthropic `cache_read_input_tokens`, llama.cpp `cache_n`; Ollama has no
   * field) and the TTFT charges only the uncached part (see `prefillTokensPerSec`). Off (the default): only llama.cpp
   * reuses a prompt, its slot's last one, and the TTFT is `ttftMs` whatever was cached.
   */
  promptCache?: boolean;
  /**
   * Prefill rate in tokens per second. Set: the TTFT is `ttftMs` (the fixed overhead) plus the uncached prompt tokens at
   * this rate. Null (the default): with `promptCache` the TTFT is `ttftMs` times the uncached share of the prompt, so a
   * test keeps the TTFT it names for a prompt that is new.
   */
  prefillTokensPerSec?: number | null;
  fault?: SimFault | null;
  /** Seconds in Retry-After for the 429 fault. */
  retryAfterS?: number;
  /** Chooses the completion text for a request; default: plausible code. Wins over `continuation`. */
  completionFor?: (request: SimCompletionRequest) => string;
  /**
   * How completion and FIM requests (not chat) are answered from `continuationFiles`: `true` continues with the text
   * that follows the prompt's prefix in a file, `wrong` with plausible code whose first non-blank character differs
   * from that, `mixed:P` is `true` for a share P of prompts (the same prompt always gets the same choice). A prefix
   * found in no file gets the default completion. Absent or null: the default completion always.
   */
  continuation?: SimContinuationSpec | null;
  /**
   * The texts of the files continuations come from. Called on every completion request while a continuation mode is
   * on; return the same array while the files are unchanged (a new array makes the simulator index the lines again).
   */
  continuationFiles?: () => readonly string[];
  /** The token cap when a request gives none (`max_tokens`, `n_predict`, `num_predict`); null means no cap. */
  maxTokensDefault?: number | null;
  /** Trim the completion to this many tokens (a natural stop, finish reason `stop`); null keeps the whole text. */
  completionTokens?: number | null;
  /** Chat answers: fenced (a sentence and a ``` block) or plain code. */
  chatStyle?: SimChatStyle;
  /**
   * Model a broken server that ignores the request's stop strings and token caps (and `maxTokensDefault`): the text runs
   * to its natural end, stop strings included. Clients must defend themselves.
   */
  ignoreStops?: boolean;
  /** Provider timings on the OpenAI finish chunk (default `none`). */
  serverTimings?: SimServerTimings;
  /** A broken answer to next-edit prompts (prose, the region twice, none, a change outside it); null answers right. */
  nextEditFault?: NextEditSimFault | null;
  /** When set, requests need `Authorization: Bearer <key>` or `x-api-key: <key>` (else 401). */
  apiKey?: string | null;
  /** The model name reported by /v1/models, /api/tags and /props; requests may name any model. */
  model?: string;
  /**
   * Parallel slots, as a llama.cpp server has (`--parallel N`; 1 is the usual local setup): a request waits, first come
   * first served, for a free slot before its TTFT starts, and a client that leaves frees its slot (or its place in the
   * queue) at once. Absent or null: unlimited.
   */
  slots?: number | null;
  /** How many request records `requests` keeps (oldest dropped first). */
  requestLogLimit?: number;
  /** Receives one human-readable line per finished request. */
  log?: (line: string) => void;
}

/** The settings one request runs with: the server defaults with its `x-sim-*` headers applied. */
export interface SimRequestSettings {
  readonly ttftMs: number;
  readonly tokensPerSec: number;
  readonly tokensPerEvent: number;
  readonly roleChunk: boolean;
  readonly sendUsage: boolean;
  readonly contextWindow: number;
  readonly promptCache: boolean;
  readonly prefillTokensPerSec: number | null;
  readonly fault: SimFault | null;
  readonly retryAfterS: number;
  readonly maxTokensDefault: number | null;
  readonly completionTokens: number | null;
  readonly chatStyle: SimChatStyle | null;
  readonly serverTimings: SimServerTimings;
  readonly ignoreStops: boolean;
  readonly continuation: SimContinuationMode | null;
  readonly nextEditFault: NextEditSimFault | null;
}

/** The defaults used when neither options nor headers say otherwise. */
export const SIM_DEFAULTS = {
  ttftMs: 150,
  tokensPerSec: 1000,
  tokensPerEvent: 1,
  roleChunk: true,
  sendUsage: true,
  contextWindow: 32768,
  retryAfterS: 2,
  model: 'sim-coder',
  requestLogLimit: 1000,
} as const;

/** Parses a fault spec such as `429`, `disconnect:20`, `stall:0`, `malformed:5`, `split-utf8`; null when invalid. */
export function parseFault(spec: string): SimFault | null {
  const trimmed = spec.trim();
  if (trimmed === '429' || trimmed === '500' || trimmed === '503') return { kind: trimmed };
  if (trimmed === 'split-utf8') return { kind: 'split-utf8' };
  const match = /^(disconnect|stall|malformed):(\d+)$/.exec(trimmed);
  if (match === null) return null;
  const kind = match[1];
  const afterTokens = Number(match[2]);
  if ((kind === 'disconnect' || kind === 'stall' || kind === 'malformed') && Number.isSafeInteger(afterTokens)) {
    return { kind, afterTokens };
  }
  return null;
}

/** The spec string of a fault (the inverse of `parseFault`). */
export function formatFault(fault: SimFault | null): string {
  if (fault === null) return 'none';
  return 'afterTokens' in fault ? `${fault.kind}:${fault.afterTokens}` : fault.kind;
}

/**
 * Checks the options a header cannot override and the type system cannot bound; throws a RangeError naming the
 * option, so that a bad value fails when the simulator starts instead of on the first request.
 */
export function checkOptions(options: Partial<SimulatorOptions>): void {
  const slots = options.slots;
  if (slots !== undefined && slots !== null && !(Number.isSafeInteger(slots) && slots >= 1)) {
    throw new RangeError(`slots must be a whole number >= 1 (or null for unlimited), got ${slots}`);
  }
  const continuation = options.continuation;
  if (continuation !== undefined && continuation !== null && parseContinuation(continuation) === null) {
    throw new RangeError(`continuation must be true, wrong or mixed:P with 0 <= P <= 1, got ${continuation}`);
  }
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function numberHeader(headers: IncomingHttpHeaders, name: string, min: number): number | undefined {
  const raw = headerValue(headers, name);
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = Number(raw);
  return Number.isFinite(value) && value >= min ? value : undefined;
}

function flagHeader(headers: IncomingHttpHeaders, name: string): boolean | undefined {
  const raw = headerValue(headers, name)?.trim().toLowerCase();
  if (raw === '1' || raw === 'true' || raw === 'yes') return true;
  if (raw === '0' || raw === 'false' || raw === 'no') return false;
  return undefined;
}

/** Thrown for an `x-sim-*` header that does not parse, so a typo in a test fails loudly instead of being ignored. */
export class SimHeaderError extends Error {}

/** Applies a request's `x-sim-*` headers over the server defaults. Throws SimHeaderError on an invalid value. */
export function resolveRequestSettings(defaults: SimulatorOptions, headers: IncomingHttpHeaders): SimRequestSettings {
  const checkNumber = (name: string, min: number): number | undefined => {
    const value = numberHeader(headers, name, min);
    if (value === undefined && headerValue(headers, name) !== undefined) {
      throw new SimHeaderError(`${name} must be a number >= ${min}`);
    }
    return value;
  };
  const checkFlag = (name: string): boolean | undefined => {
    const value = flagHeader(headers, name);
    if (value === undefined && headerValue(headers, name) !== undefined)
      throw new SimHeaderError(`${name} must be 1 or 0`);
    return value;
  };
  const faultSpec = headerValue(headers, 'x-sim-fault');
  let fault: SimFault | null = defaults.fault ?? null;
  if (faultSpec !== undefined) {
    if (faultSpec === 'none' || faultSpec === '') fault = null;
    else {
      fault = parseFault(faultSpec);
      if (fault === null) throw new SimHeaderError(`x-sim-fault: unknown fault ${JSON.stringify(faultSpec)}`);
    }
  }
  const styleSpec = headerValue(headers, 'x-sim-chat-style');
  if (styleSpec !== undefined && styleSpec !== 'fenced' && styleSpec !== 'plain') {
    throw new SimHeaderError('x-sim-chat-style must be fenced or plain');
  }
  const timingsSpec = headerValue(headers, 'x-sim-server-timings');
  const serverTimings = SERVER_TIMINGS.find((style) => style === timingsSpec);
  if (timingsSpec !== undefined && serverTimings === undefined) {
    throw new SimHeaderError('x-sim-server-timings must be none, groq, cerebras or llamacpp');
  }
  const continuationSpec = headerValue(headers, 'x-sim-continuation');
  let continuation: SimContinuationMode | null = defaults.continuation
    ? parseContinuation(defaults.continuation)
    : null;
  if (continuationSpec !== undefined) {
    if (continuationSpec === 'none' || continuationSpec === '') continuation = null;
    else {
      continuation = parseContinuation(continuationSpec);
      if (continuation === null)
        throw new SimHeaderError('x-sim-continuation must be none, true, wrong or mixed:P with 0 <= P <= 1');
    }
  }
  const nextEditFaultSpec = headerValue(headers, 'x-sim-next-edit-fault');
  let nextEditFault: NextEditSimFault | null = defaults.nextEditFault ?? null;
  if (nextEditFaultSpec !== undefined) {
    if (nextEditFaultSpec === 'none' || nextEditFaultSpec === '') nextEditFault = null;
    else {
      const known = NEXT_EDIT_SIM_FAULTS.find((fault) => fault === nextEditFaultSpec);
      if (known === undefined)
        throw new SimHeaderError('x-sim-next-edit-fault must be none, garbage, repeat, drop or outside');
      nextEditFault = known;
    }
  }
  const tokensPerSec = checkNumber('x-sim-tokens-per-sec', 0.001) ?? defaults.tokensPerSec ?? SIM_DEFAULTS.tokensPerSec;
  const tokensPerEvent =
    checkNumber('x-sim-tokens-per-event', 1) ?? defaults.tokensPerEvent ?? SIM_DEFAULTS.tokensPerEvent;
  return {
    ttftMs: checkNumber('x-sim-ttft-ms', 0) ?? defaults.ttftMs ?? SIM_DEFAULTS.ttftMs,
    tokensPerSec,
    tokensPerEvent: Math.max(1, Math.floor(tokensPerEvent)),
    roleChunk: flagHeader(headers, 'x-sim-role-chunk') ?? defaults.roleChunk ?? SIM_DEFAULTS.roleChunk,
    sendUsage: flagHeader(headers, 'x-sim-usage') ?? defaults.sendUsage ?? SIM_DEFAULTS.sendUsage,
    contextWindow: checkNumber('x-sim-context-window', 1) ?? defaults.contextWindow ?? SIM_DEFAULTS.contextWindow,
    promptCache: checkFlag('x-sim-prompt-cache') ?? defaults.promptCache ?? false,
    prefillTokensPerSec: checkNumber('x-sim-prefill-tokens-per-sec', 0.001) ?? defaults.prefillTokensPerSec ?? null,
    fault,
    retryAfterS: checkNumber('x-sim-retry-after-s', 0) ?? defaults.retryAfterS ?? SIM_DEFAULTS.retryAfterS,
    maxTokensDefault: checkNumber('x-sim-max-tokens', 0) ?? defaults.maxTokensDefault ?? null,
    completionTokens: checkNumber('x-sim-completion-tokens', 0) ?? defaults.completionTokens ?? null,
    chatStyle: styleSpec ?? defaults.chatStyle ?? null,
    serverTimings: serverTimings ?? defaults.serverTimings ?? 'none',
    ignoreStops: checkFlag('x-sim-ignore-stops') ?? defaults.ignoreStops ?? false,
    continuation,
    nextEditFault,
  };
}
