import { isRecord } from '../../core/json';
import type { PlannedEvent } from '../tokenPieces';
import { llamaCppTimings } from './llamacppWire';
import {
  chatMessages,
  contentText,
  joinMessages,
  numberField,
  sseData,
  stopStrings,
  stringField,
  type ParseResult,
  type WireContext,
  type WireFormat,
  type WireSummary,
} from './wireFormat';

function includeUsage(body: Readonly<Record<string, unknown>>): boolean {
  const options = body['stream_options'];
  return isRecord(options) && options['include_usage'] === true;
}

function maxTokensOf(body: Readonly<Record<string, unknown>>): number | null {
  // Newer OpenAI clients send `max_completion_tokens`; older ones and most compatible servers `max_tokens`.
  return numberField(body, 'max_completion_tokens') ?? numberField(body, 'max_tokens');
}

/**
 * The expected output of a chat request: `prediction: {type: "content", content}`, the content a string or an array of
 * text parts (as OpenAI takes it). Null when absent or of another shape.
 */
function predictionOf(body: Readonly<Record<string, unknown>>): string | null {
  const prediction = body['prediction'];
  if (!isRecord(prediction) || prediction['type'] !== 'content') return null;
  const content = prediction['content'];
  if (typeof content !== 'string' && !Array.isArray(content)) return null;
  return contentText(content);
}

/** Parses an OpenAI `POST /v1/chat/completions` body. */
export function parseOpenAiChat(body: Readonly<Record<string, unknown>>): ParseResult {
  const messages = chatMessages(body['messages']);
  if (messages === null || messages.length === 0) {
    return { ok: false, message: "'messages' is a required property and must be a non-empty array" };
  }
  const last = messages[messages.length - 1];
  return {
    ok: true,
    generation: {
      protocol: 'openai-chat',
      model: stringField(body, 'model') || null,
      stream: body['stream'] === true,
      maxTokens: maxTokensOf(body),
      stop: stopStrings(body['stop']),
      includeUsage: includeUsage(body),
      cachePrompt: false,
      promptText: joinMessages(messages),
      prefix: last?.content ?? '',
      suffix: '',
      messages,
      prediction: predictionOf(body),
    },
  };
}

/** Parses an OpenAI `POST /v1/completions` body (`prompt`, optional `suffix` for fill-in-the-middle). */
export function parseOpenAiCompletions(body: Readonly<Record<string, unknown>>): ParseResult {
  const rawPrompt = body['prompt'];
  const prompt = Array.isArray(rawPrompt) ? rawPrompt.filter((item) => typeof item === 'string').join('') : rawPrompt;
  if (typeof prompt !== 'string') return { ok: false, message: "'prompt' is a required property" };
  const suffix = stringField(body, 'suffix');
  return {
    ok: true,
    generation: {
      protocol: 'openai-completions',
      model: stringField(body, 'model') || null,
      stream: body['stream'] === true,
      maxTokens: numberField(body, 'max_tokens'),
      stop: stopStrings(body['stop']),
      includeUsage: includeUsage(body),
      cachePrompt: false,
      promptText: suffix.length > 0 ? `${prompt}\n${suffix}` : prompt,
      prefix: prompt,
      suffix,
      messages: [],
      prediction: null,
    },
  };
}

// OpenAI reports the prompt's cached part inside `prompt_tokens` (DeepSeek, Groq and vLLM copy the field).
function promptDetails(context: WireContext): Record<string, unknown> {
  return context.reportsPromptCache ? { prompt_tokens_details: { cached_tokens: context.cachedPromptTokens } } : {};
}

function usage(context: WireContext, summary: WireSummary): Record<string, unknown> {
  const prediction = summary.prediction;
  if (prediction === null) {
    return {
      prompt_tokens: context.promptTokens,
      completion_tokens: summary.completionTokens,
      total_tokens: context.promptTokens + summary.completionTokens,
      ...promptDetails(context),
    };
  }
  // As OpenAI reports predicted outputs: rejected prediction tokens are billed, so they are inside completion_tokens
  // although the client never receives them.
  const completionTokens = summary.completionTokens + prediction.rejected;
  return {
    prompt_tokens: context.promptTokens,
    completion_tokens: completionTokens,
    total_tokens: context.promptTokens + completionTokens,
    ...promptDetails(context),
    completion_tokens_details: {
      reasoning_tokens: 0,
      accepted_prediction_tokens: prediction.accepted,
      rejected_prediction_tokens: prediction.rejected,
    },
  };
}

const MS_PER_S = 1000;

/** The provider-specific timing fields of the finish chunk (Groq, Cerebras, llama.cpp), or none. */
function providerTimings(context: WireContext, summary: WireSummary): Record<string, unknown> {
  const promptS = summary.promptMs / MS_PER_S;
  const completionS = summary.predictedMs / MS_PER_S;
  switch (context.serverTimings) {
    case 'none':
      return {};
    case 'groq':
      return {
        x_groq: {
          id: `req_${context.id}`,
          usage: {
            queue_time: 0,
            prompt_tokens: context.promptTokens,
            prompt_time: promptS,
            completion_tokens: summary.completionTokens,
            completion_time: completionS,
            total_tokens: context.promptTokens + summary.completionTokens,
            total_time: promptS + completionS,
          },
        },
      };
    case 'cerebras':
      return {
        usage: usage(context, summary),
        time_info: {
          queue_time: 0,
          prompt_time: promptS,
          completion_time: completionS,
          total_time: promptS + completionS,
          created: context.createdS,
        },
      };
    case 'llamacpp':
      return { timings: llamaCppTimings(context, summary) };
  }
}

// OpenAI puts `"usage": null` on every chunk once the client asked for usage; the last chunk carries the figures.
function usageNull(context: WireContext): Record<string, unknown> {
  return context.includeUsage && context.sendUsage ? { usage: null } : {};
}

/** OpenAI chat completions: `chat.completion.chunk` SSE events, then `[DONE]`. */
export const openAiChatWire: WireFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  opening(context) {
    if (!context.roleChunk) return [];
    return [chunk(context, { role: 'assistant', content: '' }, null)];
  },
  content(context, event: PlannedEvent, isFirst) {
    // Without a separate role chunk, the first content chunk names the role (as several compatible servers do).
    const delta = isFirst && !context.roleChunk ? { role: 'assistant', content: event.text } : { content: event.text };
    return chunk(context, delta, null);
  },
  malformed() {
    return 'data: {"id":"chatcmpl-broken","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":\n\n';
  },
  closing(context, summary) {
    const events = [chunk(context, {}, summary.finish, providerTimings(context, summary))];
    if (context.includeUsage && context.sendUsage) {
      events.push(sseData({ ...header(context), choices: [], usage: usage(context, summary) }));
    }
    events.push('data: [DONE]\n\n');
    return events;
  },
  whole(context, text, summary) {
    return {
      id: context.id,
      object: 'chat.completion',
      created: context.createdS,
      model: context.model,
      system_fingerprint: 'fp_sim',
      choices: [
        { index: 0, message: { role: 'assistant', content: text }, logprobs: null, finish_reason: summary.finish },
      ],
      usage: usage(context, summary),
    };
  },
};

function header(context: WireContext): Record<string, unknown> {
  return {
    id: context.id,
    object: 'chat.completion.chunk',
    created: context.createdS,
    model: context.model,
    system_fingerprint: 'fp_sim',
  };
}

function chunk(
  context: WireContext,
  delta: Record<string, unknown>,
  finish: string | null,
  extra: Record<string, unknown> = {},
): string {
  return sseData({
    ...header(context),
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...usageNull(context),
    ...extra,
  });
}

function completionChunk(
  context: WireContext,
  text: string,
  finish: string | null,
  extra: Record<string, unknown> = {},
): string {
  return sseData({
    id: context.id,
    object: 'text_completion',
    created: context.createdS,
    model: context.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: finish }],
    ...usageNull(context),
    ...extra,
  });
}

/** OpenAI (legacy) completions: `text_completion` SSE events, then `[DONE]`. */
export const openAiCompletionsWire: WireFormat = {
  contentType: 'text/event-stream; charset=utf-8',
  opening() {
    return [];
  },
  content(context, event: PlannedEvent) {
    return completionChunk(context, event.text, null);
  },
  malformed() {
    return 'data: {"id":"cmpl-broken","object":"text_completion","choices":[{"text":"\n\n';
  },
  closing(context, summary) {
    const events = [completionChunk(context, '', summary.finish, providerTimings(context, summary))];
    if (context.includeUsage && context.sendUsage) {
      events.push(
        sseData({
          id: context.id,
          object: 'text_completion',
          created: context.createdS,
          model: context.model,
          choices: [],
          usage: usage(context, summary),
        }),
      );
    }
    events.push('data: [DONE]\n\n');
    return events;
  },
  whole(context, text, summary) {
    return {
      id: context.id,
      object: 'text_completion',
      created: context.createdS,
      model: context.model,
      choices: [{ text, index: 0, logprobs: null, finish_reason: summary.finish }],
      usage: usage(context, summary),
    };
  },
};
