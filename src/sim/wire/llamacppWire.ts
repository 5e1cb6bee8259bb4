import { isRecord } from '../../core/json';
import type { PlannedEvent } from '../tokenPieces';
import {
  numberField,
  sseData,
  stopStrings,
  stringField,
  type ParseResult,
  type WireContext,
  type WireFormat,
  type WireSummary,
} from './wireFormat';

function nPredict(body: Readonly<Record<string, unknown>>): number | null {
  const value = numberField(body, 'n_predict');
  // llama.cpp treats -1 (its default) as "no limit".
  return value === null || value < 0 ? null : value;
}

/** Parses a llama.cpp `POST /infill` body (`input_prefix`, `input_suffix`, `input_extra`, `prompt`). */
export function parseLlamaCppInfill(body: Readonly<Record<string, unknown>>): ParseResult {
  const prefix = stringField(body, 'input_prefix');
  const suffix = stringField(body, 'input_suffix');
  const extraRaw = body['input_extra'];
  const extra = Array.isArray(extraRaw)
    ? extraRaw.map((chunk) =>
        isRecord(chunk) ? `${stringField(chunk, 'filename')}\n${stringField(chunk, 'text')}` : '',
      )
    : [];
  // llama.cpp places `prompt` (if any) after the prefix, right before the cursor.
  const prompt = stringField(body, 'prompt');
  return {
    ok: true,
    generation: {
      protocol: 'llamacpp-infill',
      model: stringField(body, 'model') || null,
      stream: body['stream'] === true,
      maxTokens: nPredict(body),
      stop: stopStrings(body['stop']),
      includeUsage: false,
      cachePrompt: body['cache_prompt'] !== false,
      promptText: [...extra, prefix + prompt, suffix].filter((part) => part.length > 0).join('\n'),
      prefix: prefix + prompt,
      suffix,
      messages: [],
      prediction: null,
    },
  };
}

/** Parses a llama.cpp `POST /completion` body (`prompt`). */
export function parseLlamaCppCompletion(body: Readonly<Record<string, unknown>>): ParseResult {
  const prompt = body['prompt'];
  if (typeof prompt !== 'string') return { ok: false, message: '"prompt" must be provided' };
  return {
    ok: true,
    generation: {
      protocol: 'llamacpp-completion',
      model: stringField(body, 'model') || null,
      stream: body['stream'] === true,
      maxTokens: nPredict(body),
      stop: stopStrings(body['stop']),
      includeUsage: false,
      cachePrompt: body['cache_prompt'] !== false,
      promptText: prompt,
      prefix: prompt,
      suffix: '',
      messages: [],
      prediction: null,
    },
  };
}

/** llama.cpp's `timings` object (ms and tokens), from the simulator's schedule. */
export function llamaCppTimings(context: WireContext, summary: WireSummary): Record<string, number> {
  const promptN = Math.max(0, context.promptTokens - context.cachedPromptTokens);
  const promptMs = summary.promptMs;
  const predictedN = summary.completionTokens;
  const predictedMs = summary.predictedMs;
  return {
    cache_n: context.cachedPromptTokens,
    prompt_n: promptN,
    prompt_ms: promptMs,
    prompt_per_token_ms: promptN > 0 ? promptMs / promptN : 0,
    prompt_per_second: promptMs > 0 ? (promptN * 1000) / promptMs : 0,
    predicted_n: predictedN,
    predicted_ms: predictedMs,
    predicted_per_token_ms: predictedN > 0 ? predictedMs / predictedN : 0,
    predicted_per_second: predictedMs > 0 ? (predictedN * 1000) / predictedMs : 0,
  };
}

function stopType(summary: WireSummary): string {
  if (summary.finish === 'length') return 'limit';
  return summary.stopWord === null ? 'eos' : 'word';
}

function finalFields(context: WireContext, summary: WireSummary): Record<string, unknown> {
  return {
    id_slot: context.slotId,
    stop: true,
    model: context.model,
    tokens_predicted: summary.completionTokens,
    tokens_evaluated: context.promptTokens,
    tokens_cached: context.promptTokens + summary.completionTokens,
    truncated: false,
    stop_type: stopType(summary),
    stopping_word: summary.stopWord ?? '',
    // The booleans older llama.cpp builds send instead of `stop_type` (clients in the wild read either).
    stopped_eos: stopType(summary) === 'eos',
    stopped_word: stopType(summary) === 'word',
    stopped_limit: stopType(summary) === 'limit',
    timings: llamaCppTimings(context, summary),
  };
}

/** llama.cpp `/infill` and `/completion`: one SSE event per token group, a final `stop: true` event, and NO `[DONE]`. */
export const llamaCppWire: WireFormat = {
  contentType: 'text/event-stream',
  opening() {
    return [];
  },
  content(context, event: PlannedEvent, _isFirst, tokensSoFar) {
    return sseData({
      index: 0,
      content: event.text,
      tokens: event.ids,
      stop: false,
      id_slot: context.slotId,
      tokens_predicted: tokensSoFar,
      tokens_evaluated: context.promptTokens,
    });
  },
  malformed() {
    return 'data: {"index":0,"content":"\n\n';
  },
  closing(context, summary) {
    return [sseData({ index: 0, content: '', tokens: [], ...finalFields(context, summary) })];
  },
  whole(context, text, summary) {
    return { index: 0, content: text, tokens: [], ...finalFields(context, summary) };
  },
};
