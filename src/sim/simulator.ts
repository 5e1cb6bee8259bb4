import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { systemClock } from '../core/clock';
import { isRecord } from '../core/json';
import { defaultCompletion } from './defaultCompletion';
import {
  checkOptions,
  resolveRequestSettings,
  SIM_DEFAULTS,
  SimHeaderError,
  type SimCompletionRequest,
  type SimProtocol,
  type SimRequestSettings,
  type SimulatorOptions,
} from './simOptions';
import { describeRequest, updateWrittenRate, type MutableSimRequestLog, type SimRequestLog } from './simRequestLog';
import { PromptCache } from './promptCache';
import { SlotPool, type SlotTicket } from './slotPool';
import { hasMultiByteChar, PacedStream, splitInsideMultiByteChar, writeStreamHeaders } from './streamRunner';
import { limitCompletion } from './completionLimits';
import { ContinuationIndex, continuationCompletion } from './continuation';
import { planEvents, tokenizeText, type TokenizedText } from './tokenPieces';
import { matchPrediction, tokenSchedule } from './predictionMatch';
import { nextEditAnswer } from './nextEditAnswer';
import { anthropicWire, parseAnthropic } from './wire/anthropicWire';
import { errorFamilyOf, errorResponse, FAULT_MESSAGES, type ErrorFamily, type SimErrorKind } from './wire/errorBodies';
import { llamaCppWire, parseLlamaCppCompletion, parseLlamaCppInfill } from './wire/llamacppWire';
import { ollamaChatWire, ollamaGenerateWire, parseOllamaChat, parseOllamaGenerate } from './wire/ollamaWire';
import { openAiChatWire, openAiCompletionsWire, parseOpenAiChat, parseOpenAiCompletions } from './wire/openaiWire';
import type { ParsedGeneration, ParseResult, WireContext, WireFormat, WireSummary } from './wire/wireFormat';

/**
 * How many times faster an answer token taken from the request's prediction streams than a generated one, by default:
 * a speculative-decoding server verifies a run of drafted tokens in one step, and predicted outputs are reported at
 * several times the plain decode speed on edits that change little.
 */
export const DEFAULT_PREDICTION_SPEEDUP = 4;

/** The simulator's options: the shared ones, plus those only the server itself reads. */
export interface SimulatorStartOptions extends SimulatorOptions {
  /**
   * How many times faster answer tokens accepted from the request's `prediction` stream (default 4; 1 = no faster).
   * The decode rate applies to the other tokens.
   */
  predictionSpeedup?: number;
}

function checkStartOptions(options: Partial<SimulatorStartOptions>): void {
  checkOptions(options);
  const speedup = options.predictionSpeedup;
  if (speedup !== undefined && !(Number.isFinite(speedup) && speedup >= 1)) {
    throw new RangeError(`predictionSpeedup must be a number >= 1, got ${speedup}`);
  }
}

/** A running simulator. */
export interface RunningSimulator {
  /** `http://127.0.0.1:PORT`, the server root (OpenAI-style clients add `/v1`). */
  readonly baseUrl: string;
  readonly port: number;
  /** One record per request, oldest first (at most `requestLogLimit`). */
  readonly requests: readonly SimRequestLog[];
  /** TCP connections accepted since start. */
  readonly connections: number;
  /** Stops every stream, closes every connection and the server. */
  close(): Promise<void>;
  /** Changes server defaults for the requests that follow (e.g. a fault for the next test). */
  setDefaults(partial: Partial<SimulatorStartOptions>): void;
  /** Forgets the request log (the connection count stays). */
  clearRequests(): void;
}

// Generation routes: path -> protocol, parser and wire format.
const GENERATION_ROUTES: Readonly<
  Record<
    string,
    { protocol: SimProtocol; parse: (body: Readonly<Record<string, unknown>>) => ParseResult; wire: WireFormat }
  >
> = {
  '/v1/chat/completions': { protocol: 'openai-chat', parse: parseOpenAiChat, wire: openAiChatWire },
  '/chat/completions': { protocol: 'openai-chat', parse: parseOpenAiChat, wire: openAiChatWire },
  '/v1/completions': { protocol: 'openai-completions', parse: parseOpenAiCompletions, wire: openAiCompletionsWire },
  '/completions': { protocol: 'openai-completions', parse: parseOpenAiCompletions, wire: openAiCompletionsWire },
  '/infill': { protocol: 'llamacpp-infill', parse: parseLlamaCppInfill, wire: llamaCppWire },
  '/completion': { protocol: 'llamacpp-completion', parse: parseLlamaCppCompletion, wire: llamaCppWire },
  '/api/generate': { protocol: 'ollama-generate', parse: parseOllamaGenerate, wire: ollamaGenerateWire },
  '/api/chat': { protocol: 'ollama-chat', parse: parseOllamaChat, wire: ollamaChatWire },
  '/v1/messages': { protocol: 'anthropic', parse: parseAnthropic, wire: anthropicWire },
};

// Paths that answer without an API key, as llama.cpp's server does for health checks.
const PUBLIC_PATHS = new Set(['/health', '/v1/health']);

// Large enough for a long-context request of about a million tokens.
const MAX_BODY_BYTES = 64 * 1024 * 1024;

// Prepended to an all-ASCII completion under the split-utf8 fault, so that there is a multi-byte character to split.
const MULTI_BYTE_LINE = '// café → naïve ✓\n';

// Servers keep idle connections at least this long, so that clients with a 60 s keep-alive reuse them.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

const TOKENIZED_CACHE_SIZE = 16;

// The files of a simulator without `continuationFiles`: one array, so that the continuation index is built once.
const NO_FILES: readonly string[] = [];

// Prompts longer than this (in UTF-16 code units, about 25,000 tokens) are counted by estimate, not tokenised:
// tokenising a 1M-token prompt blocks the event loop for about a second, which would stall every other stream this
// process serves (the extension runs the simulator in its own host). 4 characters per token is cl100k's usual ratio.
const EXACT_PROMPT_COUNT_MAX_CHARS = 100_000;
const ESTIMATED_CHARS_PER_TOKEN = 4;

function promptTokenIds(text: string): { ids: readonly number[] | null; count: number } {
  if (text.length > EXACT_PROMPT_COUNT_MAX_CHARS)
    return { ids: null, count: Math.ceil(text.length / ESTIMATED_CHARS_PER_TOKEN) };
  const ids = encode(text, { disallowedSpecial: new Set<string>() });
  return { ids, count: ids.length };
}

function familyForPath(path: string): ErrorFamily {
  const route = GENERATION_ROUTES[path];
  if (route) return errorFamilyOf(route.protocol);
  if (path.startsWith('/api/')) return 'ollama';
  if (path === '/props' || path === '/health') return 'llamacpp';
  return 'openai';
}

function redactedHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name] =
      name === 'authorization' || name === 'x-api-key' ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function presentedKey(headers: IncomingHttpHeaders): string | null {
  const authorization = headers['authorization'];
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1] !== undefined) return match[1];
  }
  const apiKey = headers['x-api-key'];
  return typeof apiKey === 'string' ? apiKey : null;
}

function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length);
  let index = 0;
  while (index < limit && a[index] === b[index]) index++;
  return index;
}

/** Tokens of a prompt's first `chars` characters: exact when the prompt was tokenised, else at the estimate. */
function markedTokens(text: string, chars: number, exact: boolean): number {
  if (chars <= 0) return 0;
  return exact
    ? encode(text.slice(0, chars), { disallowedSpecial: new Set<string>() }).length
    : Math.floor(chars / ESTIMATED_CHARS_PER_TOKEN);
}

/**
 * The TTFT of a request whose first `cachedTokens` prompt tokens came from the prompt cache: with a prefill rate, the
 * fixed `ttftMs` plus the uncached tokens at that rate; without one, with the server-wide cache on, `ttftMs` scaled by
 * the uncached share (so a new prompt keeps the TTFT a test names); otherwise `ttftMs` as before there was a cache.
 */
export function prefillMs(settings: SimRequestSettings, promptTokens: number, cachedTokens: number): number {
  const uncached = Math.max(0, promptTokens - cachedTokens);
  if (settings.prefillTokensPerSec !== null) return settings.ttftMs + (uncached * 1000) / settings.prefillTokensPerSec;
  if (settings.promptCache && promptTokens > 0) return (settings.ttftMs * uncached) / promptTokens;
  return settings.ttftMs;
}

/**
 * Starts the burst-speed simulator on 127.0.0.1: one server speaking OpenAI chat/completions, llama.cpp, Ollama and
 * Anthropic wire formats, with accurate pacing and injectable faults. See `SimulatorOptions` for the knobs and
 * `x-sim-*` request headers for per-request overrides.
 */
export async function startSimulator(options: SimulatorStartOptions = {}): Promise<RunningSimulator> {
  checkStartOptions(options);
  const defaults: SimulatorStartOptions = { ...options };
  const clock = systemClock;
  const log: SimRequestLog[] = [];
  const active = new Set<PacedStream>();
  const pendingTimers = new Set<NodeJS.Timeout>();
  const tokenizedCache = new Map<string, TokenizedText>();
  // llama.cpp keeps a prompt cache per slot: the next request in a slot reuses the prefix it shares with the last one.
  const lastLlamaPromptBySlot = new Map<number, readonly number[]>();
  // With `promptCache` on, one cache for the whole server over the last few prompts, whatever their protocol.
  const promptCache = new PromptCache(ESTIMATED_CHARS_PER_TOKEN);
  const slots = new SlotPool(() => defaults.slots ?? Number.POSITIVE_INFINITY);
  const continuations = new ContinuationIndex(() => defaults.continuationFiles?.() ?? NO_FILES);
  let requestCount = 0;
  let connections = 0;
  let closing = false;

  const modelName = (): string => defaults.model ?? SIM_DEFAULTS.model;
  const contextWindow = (): number => defaults.contextWindow ?? SIM_DEFAULTS.contextWindow;

  function tokenized(text: string): TokenizedText {
    const cached = tokenizedCache.get(text);
    if (cached) return cached;
    const tokens = tokenizeText(text);
    if (tokenizedCache.size >= TOKENIZED_CACHE_SIZE) {
      const oldest = tokenizedCache.keys().next();
      if (!oldest.done) tokenizedCache.delete(oldest.value);
    }
    tokenizedCache.set(text, tokens);
    return tokens;
  }

  function newRecord(request: IncomingMessage, path: string): MutableSimRequestLog {
    requestCount += 1;
    const entry: MutableSimRequestLog = {
      id: requestCount,
      method: request.method ?? 'GET',
      path,
      protocol: null,
      model: null,
      stream: false,
      status: 0,
      settings: null,
      headers: redactedHeaders(request.headers),
      body: null,
      promptTokens: 0,
      cachedPromptTokens: 0,
      arrivalMs: clock.now(),
      slotId: null,
      slotWaitMs: null,
      firstTokenMs: null,
      lastTokenMs: null,
      endMs: null,
      tokensPlanned: 0,
      tokensWritten: 0,
      eventsWritten: 0,
      textWritten: '',
      finishReason: null,
      outcome: 'in-progress',
      clientDisconnected: false,
      clientDisconnectedMs: null,
      tokensNotGenerated: 0,
      tokensGeneratedAfterDisconnect: 0,
      writtenTokensPerSec: null,
    };
    log.push(entry);
    const limit = defaults.requestLogLimit ?? SIM_DEFAULTS.requestLogLimit;
    while (log.length > limit) log.shift();
    return entry;
  }

  function report(entry: SimRequestLog): void {
    defaults.log?.(describeRequest(entry));
  }

  function sendJson(
    response: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    const text = JSON.stringify(body);
    response.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': String(Buffer.byteLength(text)),
      ...headers,
    });
    response.end(text);
  }

  function sendError(
    response: ServerResponse,
    entry: MutableSimRequestLog,
    family: ErrorFamily,
    kind: SimErrorKind,
    message: string,
    options: { extra?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ): void {
    const error = errorResponse(family, kind, message, options.extra);
    entry.status = error.status;
    entry.outcome = 'error';
    entry.endMs = clock.now();
    sendJson(response, error.status, error.body, options.headers);
    report(entry);
  }

  function modelsList(): unknown {
    const window = contextWindow();
    return {
      object: 'list',
      data: [
        {
          id: modelName(),
          object: 'model',
          created: 1_700_000_000,
          owned_by: 'latency-copilot-simulator',
          context_length: window,
          max_model_len: window,
          context_window: window,
        },
      ],
    };
  }

  function handleInfo(path: string, method: string, response: ServerResponse, entry: MutableSimRequestLog): boolean {
    const window = contextWindow();
    let body: unknown;
    if (method === 'GET' && (path === '/health' || path === '/v1/health')) body = { status: 'ok' };
    else if (method === 'GET' && (path === '/v1/models' || path === '/models')) body = modelsList();
    else if (method === 'GET' && path === '/props') {
      body = {
        default_generation_settings: { n_ctx: window, n_predict: -1, model: modelName() },
        total_slots: defaults.slots ?? 1,
        model_path: `/models/${modelName()}.gguf`,
        build_info: 'latency-copilot simulator',
      };
    } else if (method === 'GET' && path === '/api/version') body = { version: '0.12.0' };
    else if (method === 'GET' && path === '/api/tags') {
      body = {
        models: [
          {
            name: modelName(),
            model: modelName(),
            modified_at: new Date(0).toISOString(),
            size: 0,
            digest: 'sim',
            details: { format: 'gguf', family: 'llama', parameter_size: '1B', quantization_level: 'Q8_0' },
          },
        ],
      };
    } else if (method === 'POST' && path === '/api/show') {
      body = {
        modelfile: '',
        parameters: `num_ctx ${window}`,
        template: '{{ .Prompt }}',
        details: { format: 'gguf', family: 'llama', parameter_size: '1B', quantization_level: 'Q8_0' },
        model_info: { 'general.architecture': 'llama', 'llama.context_length': window },
        capabilities: ['completion', 'insert'],
      };
    } else return false;
    entry.status = 200;
    entry.outcome = 'completed';
    entry.endMs = clock.now();
    sendJson(response, 200, body);
    return true;
  }

  function completionText(
    generation: ParsedGeneration,
    settings: SimRequestSettings,
    path: string,
    body: Record<string, unknown>,
  ): string {
    // A next-edit prompt gets a scripted rewrite (the region with a known change), so tests know the true answer.
    const scripted = nextEditAnswer(generation, settings.nextEditFault);
    if (scripted !== null) return scripted;
    const request: SimCompletionRequest = {
      protocol: generation.protocol,
      path,
      model: generation.model ?? modelName(),
      promptText: generation.promptText,
      prefix: generation.prefix,
      suffix: generation.suffix,
      messages: generation.messages,
      body,
    };
    const isChat =
      generation.protocol === 'openai-chat' ||
      generation.protocol === 'ollama-chat' ||
      generation.protocol === 'anthropic';
    const chooser = defaults.completionFor;
    if (chooser) return chooser(request);
    // Continuations answer completion and FIM requests, which carry the text before the cursor; chat is left as it is.
    if (settings.continuation !== null && !isChat) {
      const continued = continuationCompletion(settings.continuation, continuations, request);
      if (continued !== null) return continued;
    }
    return defaultCompletion(request, settings.chatStyle ?? (isChat ? 'fenced' : 'plain'));
  }

  /**
   * The answer's use of a request's prediction and the schedule it streams on, or null without a prediction. The
   * prediction is counted in cl100k tokens like the answer, through the same cache (a repeated one is tokenised once).
   */
  function predictionPlan(
    prediction: string | null,
    answerIds: readonly number[],
    rate: number,
  ): { accepted: number; rejected: number; offsetsMs: Float64Array; decodeMs: number } | null {
    if (prediction === null) return null;
    const match = matchPrediction(answerIds, tokenized(prediction).ids);
    const speedup = defaults.predictionSpeedup ?? DEFAULT_PREDICTION_SPEEDUP;
    return { accepted: match.accepted, rejected: match.rejected, ...tokenSchedule(match.acceptedMask, rate, speedup) };
  }

  /** Checks the context window the way each real server does; returns true when an error was sent. */
  function rejectTooLong(
    generation: ParsedGeneration,
    promptTokens: number,
    window: number,
    response: ServerResponse,
    entry: MutableSimRequestLog,
  ): boolean {
    const family = errorFamilyOf(generation.protocol);
    const requested = generation.maxTokens ?? 0;
    switch (family) {
      case 'openai':
        if (promptTokens + requested <= window) return false;
        sendError(
          response,
          entry,
          family,
          'context',
          `This model's maximum context length is ${window} tokens. However, you requested ${promptTokens + requested} tokens ` +
            `(${promptTokens} in the messages, ${requested} in the completion). Please reduce the length of the messages or completion.`,
          { extra: { param: 'messages' } },
        );
        return true;
      case 'llamacpp':
        // llama.cpp rejects only a prompt that does not fit; generation then stops at the end of the context.
        if (promptTokens < window) return false;
        sendError(
          response,
          entry,
          family,
          'context',
          'the request exceeds the available context size, try increasing it',
          {
            extra: { n_prompt_tokens: promptTokens, n_ctx: window },
          },
        );
        return true;
      case 'anthropic':
        if (promptTokens > window) {
          sendError(
            response,
            entry,
            family,
            'context',
            `prompt is too long: ${promptTokens} tokens > ${window} maximum`,
          );
          return true;
        }
        if (promptTokens + requested <= window) return false;
        sendError(
          response,
          entry,
          family,
          'context',
          `input length and \`max_tokens\` exceed context limit: ${promptTokens} + ${requested} > ${window}, ` +
            'decrease input length or `max_tokens` and try again',
        );
        return true;
      case 'ollama':
        // Ollama does not fail: it silently truncates the prompt to the context window.
        return false;
    }
  }

  function handleGeneration(
    path: string,
    route: { protocol: SimProtocol; parse: (body: Readonly<Record<string, unknown>>) => ParseResult; wire: WireFormat },
    request: IncomingMessage,
    response: ServerResponse,
    entry: MutableSimRequestLog,
    bodyText: string,
    bodyEndMs: number,
  ): void {
    const family = errorFamilyOf(route.protocol);
    entry.protocol = route.protocol;
    let parsedBody: unknown;
    try {
      parsedBody = bodyText.length > 0 ? JSON.parse(bodyText) : null;
    } catch {
      sendError(response, entry, family, 'bad-request', 'The request body is not valid JSON.');
      return;
    }
    entry.body = parsedBody;
    if (!isRecord(parsedBody)) {
      sendError(response, entry, family, 'bad-request', 'The request body must be a JSON object.');
      return;
    }
    let settings: SimRequestSettings;
    try {
      settings = resolveRequestSettings(defaults, request.headers);
    } catch (error) {
      if (!(error instanceof SimHeaderError)) throw error;
      sendError(response, entry, family, 'bad-request', error.message);
      return;
    }
    entry.settings = settings;
    const parsed = route.parse(parsedBody);
    if (!parsed.ok) {
      sendError(response, entry, family, 'bad-request', parsed.message);
      return;
    }
    const generation = parsed.generation;
    entry.model = generation.model ?? modelName();
    entry.stream = generation.stream;

    const fault = settings.fault;
    if (fault?.kind === '429') {
      const seconds = String(settings.retryAfterS);
      sendError(response, entry, family, 'rate-limited', FAULT_MESSAGES['rate-limited'], {
        headers: {
          'retry-after': seconds,
          'x-ratelimit-reset-tokens-minute': seconds,
          'x-ratelimit-remaining-tokens-minute': '0',
        },
      });
      return;
    }
    if (fault?.kind === '500') {
      sendError(response, entry, family, 'server', FAULT_MESSAGES.server);
      return;
    }
    if (fault?.kind === '503') {
      sendError(response, entry, family, 'unavailable', FAULT_MESSAGES.unavailable);
      return;
    }

    const prompt = promptTokenIds(generation.promptText);
    const window = settings.contextWindow;
    if (rejectTooLong(generation, prompt.count, window, response, entry)) return;
    const promptTokens = family === 'ollama' ? Math.min(prompt.count, window) : prompt.count;
    entry.promptTokens = promptTokens;

    // Choose the text, then apply its natural length, the request's stop strings and its caps (completionLimits.ts).
    let text = completionText(generation, settings, path, parsedBody);
    if (fault?.kind === 'split-utf8' && !hasMultiByteChar(text)) text = MULTI_BYTE_LINE + text;
    const limited = limitCompletion(
      text,
      {
        stop: generation.stop,
        naturalTokens: settings.completionTokens,
        requestCap: generation.maxTokens ?? settings.maxTokensDefault,
        // llama.cpp stops at the end of its context window however it is asked.
        hardCap: family === 'llamacpp' ? Math.max(0, window - promptTokens) : Number.POSITIVE_INFINITY,
        ignoreStops: settings.ignoreStops,
      },
      tokenized,
    );
    const tokens = limited.tokens;
    const completionTokens = tokens.ids.length;
    entry.tokensPlanned = completionTokens;

    const rate = settings.tokensPerSec;
    // Predicted outputs: answer tokens taken from the prediction stream faster, and usage says how many were used.
    const predicted = predictionPlan(generation.prediction, tokens.ids, rate);
    const summary: WireSummary = {
      completionTokens,
      finish: limited.finish,
      stopWord: limited.stopWord,
      promptMs: settings.ttftMs,
      predictedMs: predicted?.decodeMs ?? (completionTokens * 1000) / rate,
      totalMs:
        settings.ttftMs +
        (predicted?.offsetsMs[completionTokens - 1] ?? (Math.max(0, completionTokens - 1) * 1000) / rate),
      prediction: predicted === null ? null : { accepted: predicted.accepted, rejected: predicted.rejected },
    };
    const idPrefix =
      family === 'anthropic' ? 'msg_sim' : route.protocol === 'openai-completions' ? 'cmpl-sim' : 'chatcmpl-sim';
    entry.status = 200;
    const boundary = fault !== null && 'afterTokens' in fault ? fault.afterTokens : null;
    const events = planEvents(tokens, generation.stream ? settings.tokensPerEvent : completionTokens, boundary);

    // A stream's headers go out at once, as llama.cpp's do while a request waits for a slot (so that a client's
    // headers timeout measures the server, not the queue); everything else waits for the slot.
    if (generation.stream) writeStreamHeaders(response, route.wire);
    let granted = false;
    const onGranted = (held: SlotTicket & { readonly slot: number }, queued: boolean): void => {
      granted = true;
      const slot = held.slot;
      const grantedMs = clock.now();
      entry.slotId = slot;
      entry.slotWaitMs = queued ? grantedMs - bodyEndMs : 0;
      let cachedPromptTokens = 0;
      let cacheWrittenTokens = 0;
      if (settings.promptCache) {
        const breakpoint = generation.cacheBreakpointChars;
        if (breakpoint === undefined) {
          // llama.cpp computes a prompt afresh when asked not to reuse its cache; the others have no such switch.
          cachedPromptTokens = promptCache.lookUpAndRemember(generation.promptText, prompt.ids, promptTokens);
          if (family === 'llamacpp' && !generation.cachePrompt) cachedPromptTokens = 0;
        } else {
          // Explicit caching (Anthropic) serves the marked prefix whole when an earlier prompt had the same, else writes it.
          const hit = breakpoint > 0 && promptCache.commonChars(generation.promptText) >= breakpoint;
          promptCache.lookUpAndRemember(generation.promptText, prompt.ids, promptTokens);
          const marked = Math.min(
            Math.max(0, promptTokens - 1),
            markedTokens(generation.promptText, breakpoint, prompt.ids !== null),
          );
          cachedPromptTokens = hit ? marked : 0;
          cacheWrittenTokens = marked - cachedPromptTokens;
        }
      } else if (family === 'llamacpp') {
        const ids = prompt.ids ?? [];
        cachedPromptTokens = generation.cachePrompt
          ? commonPrefixLength(lastLlamaPromptBySlot.get(slot) ?? [], ids)
          : 0;
        lastLlamaPromptBySlot.set(slot, ids);
      }
      entry.cachedPromptTokens = cachedPromptTokens;
      const ttftMs = prefillMs(settings, promptTokens, cachedPromptTokens);
      const runSettings: SimRequestSettings = ttftMs === settings.ttftMs ? settings : { ...settings, ttftMs };
      const runSummary: WireSummary =
        ttftMs === settings.ttftMs
          ? summary
          : { ...summary, promptMs: ttftMs, totalMs: summary.totalMs - settings.ttftMs + ttftMs };
      const now = new Date();
      const context: WireContext = {
        id: `${idPrefix}${entry.id}`,
        model: entry.model ?? modelName(),
        createdS: Math.floor(now.getTime() / 1000),
        createdIso: now.toISOString(),
        promptTokens,
        cachedPromptTokens,
        cacheWrittenTokens,
        reportsPromptCache: settings.promptCache,
        includeUsage: generation.includeUsage,
        sendUsage: settings.sendUsage,
        roleChunk: settings.roleChunk,
        serverTimings: settings.serverTimings,
        slotId: slot,
      };
      // The TTFT runs from when the body had arrived (so parsing and tokenising are inside it, not added to it), or,
      // after a wait in the queue, from when the slot was granted: a busy server starts on a request only then.
      const startMs = queued ? grantedMs : bodyEndMs;
      const onDone = (): void => {
        held.release();
        report(entry);
      };
      if (!generation.stream) {
        respondWhole(response, entry, route.wire, context, runSummary, tokens, startMs, runSettings, onDone);
        return;
      }
      const stream = new PacedStream({
        response,
        wire: route.wire,
        context,
        summary: runSummary,
        events,
        startMs,
        ttftMs,
        tokensPerSec: rate,
        ...(predicted === null ? {} : { tokenOffsetsMs: predicted.offsetsMs }),
        fault,
        record: entry,
        clock,
        onDone: () => {
          active.delete(stream);
          onDone();
        },
      });
      active.add(stream);
      stream.start();
    };
    response.on('close', () => {
      // A client that leaves while waiting leaves the queue: it never generates, and frees no slot (it held none).
      if (granted || entry.outcome !== 'in-progress') return;
      const now = clock.now();
      entry.outcome = 'client-left';
      entry.clientDisconnected = true;
      entry.clientDisconnectedMs = now;
      entry.endMs = now;
      entry.slotWaitMs = now - bodyEndMs;
      entry.tokensNotGenerated = entry.tokensPlanned;
      ticket.release();
      report(entry);
    });
    const ticket = slots.acquire(onGranted);
  }

  function respondWhole(
    response: ServerResponse,
    entry: MutableSimRequestLog,
    wire: WireFormat,
    context: WireContext,
    summary: WireSummary,
    tokens: TokenizedText,
    startMs: number,
    settings: SimRequestSettings,
    onDone: () => void,
  ): void {
    const fault = settings.fault;
    const rate = settings.tokensPerSec;
    const text = tokens.pieces.join('');
    let dueMs = startMs + summary.totalMs;
    if (fault !== null && 'afterTokens' in fault && fault.kind !== 'malformed') {
      dueMs =
        startMs + settings.ttftMs + (Math.max(0, Math.min(fault.afterTokens, tokens.ids.length) - 1) * 1000) / rate;
    }
    const finish = (): void => {
      entry.endMs = clock.now();
      onDone();
    };
    response.on('close', () => {
      if (entry.outcome !== 'in-progress' && entry.outcome !== 'stalled') return;
      clearTimeout(timer);
      pendingTimers.delete(timer);
      entry.outcome = 'client-left';
      entry.clientDisconnected = true;
      entry.clientDisconnectedMs = clock.now();
      entry.tokensNotGenerated = entry.tokensPlanned;
      finish();
    });
    const timer = setTimeout(
      () => {
        pendingTimers.delete(timer);
        if (fault?.kind === 'stall') {
          entry.outcome = 'stalled';
          return;
        }
        if (fault?.kind === 'disconnect') {
          entry.outcome = 'server-disconnected';
          response.socket?.destroy();
          finish();
          return;
        }
        const now = clock.now();
        entry.firstTokenMs = now;
        entry.lastTokenMs = now;
        entry.tokensWritten = tokens.ids.length;
        entry.eventsWritten = 1;
        entry.textWritten = text;
        entry.finishReason = summary.finish;
        updateWrittenRate(entry);
        entry.outcome = 'completed';
        const bodyText =
          fault?.kind === 'malformed'
            ? '{"id":"broken","choices":['
            : JSON.stringify(wire.whole(context, text, summary));
        const headers = {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(Buffer.byteLength(bodyText)),
        };
        const halves = fault?.kind === 'split-utf8' ? splitInsideMultiByteChar(bodyText) : null;
        response.writeHead(200, headers);
        if (halves === null) {
          response.end(bodyText, finish);
          return;
        }
        response.write(halves[0]);
        const gap = setTimeout(() => {
          pendingTimers.delete(gap);
          response.end(halves[1], finish);
        }, 15);
        pendingTimers.add(gap);
      },
      Math.max(0, Math.ceil(dueMs - clock.now())),
    );
    pendingTimers.add(timer);
  }

  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS, noDelay: true }, (request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    const entry = newRecord(request, path);
    if (closing) {
      request.resume();
      sendError(response, entry, familyForPath(path), 'unavailable', 'The simulator is shutting down.');
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    request.on('end', () => {
      const bodyEndMs = clock.now();
      try {
        const family = familyForPath(path);
        if (tooLarge) {
          sendError(response, entry, family, 'bad-request', `The request body exceeds ${MAX_BODY_BYTES} bytes.`);
          return;
        }
        const expectedKey = defaults.apiKey ?? null;
        if (expectedKey !== null && !PUBLIC_PATHS.has(path) && presentedKey(request.headers) !== expectedKey) {
          sendError(response, entry, family, 'unauthorized', 'Invalid API key provided.');
          return;
        }
        const route = GENERATION_ROUTES[path];
        if (method === 'POST' && route) {
          handleGeneration(path, route, request, response, entry, Buffer.concat(chunks).toString('utf8'), bodyEndMs);
          return;
        }
        if (handleInfo(path, method, response, entry)) return;
        sendError(response, entry, family, 'not-found', `Unknown endpoint: ${method} ${path}`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!response.headersSent)
          sendError(response, entry, familyForPath(path), 'server', `Simulator bug: ${message}`);
        else response.destroy();
      }
    });
  });
  server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1000;
  server.on('connection', (socket) => {
    connections += 1;
    socket.setNoDelay(true);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? (address satisfies AddressInfo).port : 0;

  return {
    baseUrl: `http://127.0.0.1:${port}`,
    port,
    get requests(): readonly SimRequestLog[] {
      return log;
    },
    get connections(): number {
      return connections;
    },
    setDefaults(partial: Partial<SimulatorStartOptions>): void {
      checkStartOptions(partial);
      Object.assign(defaults, partial);
      // More slots let waiting requests start now.
      slots.pump();
    },
    clearRequests(): void {
      log.length = 0;
    },
    async close(): Promise<void> {
      closing = true;
      slots.close();
      for (const stream of active) stream.cancel();
      for (const timer of pendingTimers) clearTimeout(timer);
      pendingTimers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
