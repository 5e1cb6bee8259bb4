import type { EndpointTarget, GenerationRequest } from '../endpoint';
import { numberAt, recordAt, stringAt } from '../json';
import type { FramedMessage } from '../stream/framing';
import { inStreamError } from '../stream/httpErrors';
import type { StreamEvent } from '../streamEvents';
import type { ProtocolAdapter, ProtocolHttpRequest, StreamDecoder } from './protocol';
import { bearerHeaders, messagesOf, parseJsonObject, promptOf, trimBaseUrl } from './shared';

const NANOSECONDS_PER_MS = 1_000_000;

function optionsOf(request: GenerationRequest): Record<string, unknown> {
  const options: Record<string, unknown> = { num_predict: request.maxTokens };
  // One stable figure per endpoint (see GenerationRequest.contextWindow): a different num_ctx reloads the model.
  if (request.contextWindow !== undefined) options['num_ctx'] = request.contextWindow;
  if (request.temperature !== undefined) options['temperature'] = request.temperature;
  if (request.stop && request.stop.length > 0) options['stop'] = request.stop;
  return options;
}

/** Ollama streams NDJSON; the last line has `done: true` with counts and durations in nanoseconds. */
function ollamaDecoder(
  textOf: (line: Record<string, unknown>) => { text: string | undefined; reasoning: string | undefined },
): StreamDecoder {
  let finished = false;
  return {
    get finished() {
      return finished;
    },
    decode(message: FramedMessage): readonly StreamEvent[] {
      const line = parseJsonObject(message.data);
      if (line['error'] !== undefined && line['error'] !== null) throw inStreamError(line);
      const events: StreamEvent[] = [];
      const { text, reasoning } = textOf(line);
      if (reasoning) events.push({ kind: 'reasoning', text: reasoning });
      if (text) events.push({ kind: 'text', text });
      if (line['done'] === true) {
        finished = true;
        events.push({ kind: 'finish', reason: stringAt(line, 'done_reason') ?? 'stop' });
        const promptTokens = numberAt(line, 'prompt_eval_count');
        const completionTokens = numberAt(line, 'eval_count');
        const promptNs = numberAt(line, 'prompt_eval_duration');
        const evalNs = numberAt(line, 'eval_duration');
        events.push({
          kind: 'usage',
          promptTokens,
          completionTokens,
          cachedPromptTokens: null,
          // Ollama has no predicted outputs.
          acceptedPredictionTokens: null,
          rejectedPredictionTokens: null,
        });
        events.push({
          kind: 'timings',
          origin: 'ollama',
          promptTokens,
          promptMs: promptNs === null ? null : promptNs / NANOSECONDS_PER_MS,
          predictedTokens: completionTokens,
          predictedMs: evalNs === null ? null : evalNs / NANOSECONDS_PER_MS,
          cachedPromptTokens: null,
        });
      }
      return events;
    },
  };
}

/** Ollama `/api/generate` (with `suffix` for fill-in-the-middle). */
export const ollamaGenerateProtocol: ProtocolAdapter = {
  id: 'ollama-generate',
  framing: 'ndjson',
  buildRequest(target: EndpointTarget, request: GenerationRequest): ProtocolHttpRequest {
    const body: Record<string, unknown> = {
      model: target.model,
      prompt: promptOf(request),
      stream: true,
      options: optionsOf(request),
    };
    if (request.suffix !== undefined) body['suffix'] = request.suffix;
    return {
      url: `${trimBaseUrl(target.baseUrl)}/api/generate`,
      headers: bearerHeaders(target),
      body: { ...body, ...request.extraBody },
    };
  },
  createDecoder: () =>
    ollamaDecoder((line) => ({ text: stringAt(line, 'response'), reasoning: stringAt(line, 'thinking') })),
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/api/version`,
};

/** Ollama `/api/chat`. */
export const ollamaChatProtocol: ProtocolAdapter = {
  id: 'ollama-chat',
  framing: 'ndjson',
  buildRequest(target: EndpointTarget, request: GenerationRequest): ProtocolHttpRequest {
    const body: Record<string, unknown> = {
      model: target.model,
      messages: messagesOf(request),
      stream: true,
      options: optionsOf(request),
    };
    return {
      url: `${trimBaseUrl(target.baseUrl)}/api/chat`,
      headers: bearerHeaders(target),
      body: { ...body, ...request.extraBody },
    };
  },
  createDecoder: () =>
    ollamaDecoder((line) => {
      const message = recordAt(line, 'message');
      return { text: stringAt(message, 'content'), reasoning: stringAt(message, 'thinking') };
    }),
  warmUrl: (target) => `${trimBaseUrl(target.baseUrl)}/api/version`,
};
