import type { EndpointTarget, GenerationRequest } from '../endpoint';
import { firstAt, isRecord, numberAt, recordAt, stringAt } from '../json';
import type { FramedMessage } from '../stream/framing';
import { inStreamError } from '../stream/httpErrors';
import type { StreamEvent, TimingsEvent } from '../streamEvents';
import type { ProtocolAdapter, ProtocolHttpRequest, StreamDecoder } from './protocol';
import { llamaCppTimings } from './llamacpp';
import { bearerHeaders, messagesOf, parseJsonObject, promptOf, trimBaseUrl } from './shared';

/** Body fields common to OpenAI chat and completions. */
function commonBody(target: EndpointTarget, request: GenerationRequest): Record<string, unknown> {
  const body: Record<string, unknown> = {
    model: target.model,
    stream: true,
    // Ask for the server's own token counts: the usage chunk arrives last, with `choices: []`.
    stream_options: { include_usage: true },
    max_tokens: request.maxTokens,
  };
  if (request.temperature !== undefined) body['temperature'] = request.temperature;
  if (request.stop && request.stop.length > 0) body['stop'] = request.stop;
  return body;
}

/**
 * Server-side timings some OpenAI-compatible servers add: Groq `x_groq.usage` and Cerebras `time_info` (seconds),
 * llama.cpp `timings` (ms).
 */
function providerTimings(chunk: Record<string, unknown>): TimingsEvent | null {
  const groqUsage = recordAt(recordAt(chunk, 'x_groq'), 'usage');
  if (groqUsage) {
    const completionTime = numberAt(groqUsage, 'completion_time');
    const promptTime = numberAt(groqUsage, 'prompt_time');
    return {
      kind: 'timings',
      origin: 'groq',
      promptTokens: numberAt(groqUsage, 'prompt_tokens'),
      promptMs: promptTime === null ? null : promptTime * 1000,
      predictedTokens: numberAt(groqUsage, 'completion_tokens'),
      predictedMs: completionTime === null ? null : completionTime * 1000,
      cachedPromptTokens: null,
    };
  }
  const timeInfo = recordAt(chunk, 'time_info');
  if (timeInfo) {
    const usage = recordAt(chunk, 'usage');
    const completionTime = numberAt(timeInfo, 'completion_time');
    const promptTime = numberAt(timeInfo, 'prompt_time');
    return {
      kind: 'timings',
      origin: 'cerebras',
      promptTokens: numberAt(usage, 'prompt_tokens'),
      promptMs: promptTime === null ? null : promptTime * 1000,
      predictedTokens: numberAt(usage, 'completion_tokens'),
      predictedMs: completionTime === null ? null : completionTime * 1000,
      cachedPromptTokens: null,
    };
  }
  const timings = recordAt(chunk, 'timings');
  return timings ? llamaCppTimings(timings) : null;
}

/** A decoder for OpenAI-style SSE; `textOf` picks the text out of one choice (chat `delta.content` or completions `text`). */
function openAiDecoder(
  textOf: (choice: unknown) => { text: string | undefined; reasoning: string | undefined },
): StreamDecoder {
  let finished = false;
  let finishSeen = false;
  return {
    get finished() {
      // Some servers end after `finish_reason` without `[DONE]`; either marks a complete answer.
      return finished || finishSeen;
    },
    decode(message: FramedMessage): readonly StreamEvent[] {
      const data = message.data.trim();
      if (data === '[DONE]') {
        finished = true;
        return [];
      }
      if (data.length === 0) return [];
      const chunk = parseJsonObject(data);
      if (chunk['error'] !== undefined && chunk['error'] !== null) throw inStreamError(chunk);
      const events: StreamEvent[] = [];
      const choice = firstAt(chunk, 'choices');
      if (choice !== undefined) {
        const { text, reasoning } = textOf(choice);
        if (reasoning) events.push({ kind: 'reasoning', text: reasoning });
        if (text) events.push({ kind: 'text', text });
        const finishReason = stringAt(choice, 'finish_reason');
        if (finishReason) {
          finishSeen = true;
          events.push({ kind: 'finish', reason: finishReason });
        }
      }
      const usage = recordAt(chunk, 'usage');
      if (usage) {
        const completionDetails = recordAt(usage, 'completion_tokens_details');
        events.push({
          kind: 'usage',
          promptTokens: numberAt(usage, 'prompt_tokens'),
          completionTokens: numberAt(usage, 'completion_tokens'),
          cachedPromptTokens: numberAt(recordAt(usage, 'prompt_tokens_details'), 'cached_tokens'),
          acceptedPredictionTokens: numberAt(completionDetails, 'accepted_prediction_tokens'),
          rejectedPredictionTokens: numberAt(completionDetails, 'rejected_prediction_tokens'),
        });
      }
      const timings = providerTimings(chunk);
      if (timings) events.push(timings);
      return events;
    },
  };
}

/** OpenAI `/chat/completions` (and every OpenAI-compatible chat server). */
export const openAiChatProtocol: ProtocolAdapter = {
  id: 'openai-chat',
  framing: 'sse',
  buildRequest(target, request): ProtocolHttpRequest {
    const body: Record<string, unknown> = {
      ...commonBody(target, request),
      messages: messagesOf(request),
      // Only chat completions take predicted outputs; the feature sets it only for endpoints that take it.
      ...(request.prediction === undefined ? {} : { prediction: { type: 'content', content: request.prediction } }),
      ...request.extraBody,
    };
    return { url: `${trimBaseUrl(target.baseUrl)}/chat/completions`, headers: bearerHeaders(target), body };
  },
  createDecoder: () =>
    openAiDecoder((choice) => {
      const delta = recordAt(choice, 'delta') ?? recordAt(choice, 'message');
      return {
        text: stringAt(delta, 'content'),
        reasoning: stringAt(delta, 'reasoning_content') ?? stringAt(delta, 'reasoning'),
      };
    }),
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/models`,
};

/** OpenAI `/completions` with `suffix` for fill-in-the-middle. */
export const openAiCompletionsProtocol: ProtocolAdapter = {
  id: 'openai-completions',
  framing: 'sse',
  buildRequest(target, request): ProtocolHttpRequest {
    const body: Record<string, unknown> = {
      ...commonBody(target, request),
      prompt: promptOf(request),
      ...request.extraBody,
    };
    if (request.suffix !== undefined) body['suffix'] = request.suffix;
    return { url: `${trimBaseUrl(target.baseUrl)}/completions`, headers: bearerHeaders(target), body };
  },
  // Mistral's `/fim/completions` has the completions request shape but streams chat-style `delta.content`.
  createDecoder: () =>
    openAiDecoder((choice) => ({
      text: isRecord(choice) ? (stringAt(choice, 'text') ?? stringAt(recordAt(choice, 'delta'), 'content')) : undefined,
      reasoning: undefined,
    })),
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/models`,
};
