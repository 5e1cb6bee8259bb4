import { isRecord } from '../../core/json';
import type { PlannedEvent } from '../tokenPieces';
import {
  chatMessages,
  joinMessages,
  numberField,
  stopStrings,
  stringField,
  type ParseResult,
  type WireContext,
  type WireFormat,
  type WireSummary,
} from './wireFormat';

function options(body: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  const value = body['options'];
  return isRecord(value) ? value : {};
}

function numPredict(body: Readonly<Record<string, unknown>>): number | null {
  const value = numberField(options(body), 'num_predict');
  // Ollama treats -1 (its default) as "no limit" (and -2 as "fill the context").
  return value === null || value < 0 ? null : value;
}

/** Parses an Ollama `POST /api/generate` body (`prompt`, optional `suffix`). Ollama streams unless `stream: false`. */
export function parseOllamaGenerate(body: Readonly<Record<string, unknown>>): ParseResult {
  const prompt = stringField(body, 'prompt');
  const suffix = stringField(body, 'suffix');
  return {
    ok: true,
    generation: {
      protocol: 'ollama-generate',
      model: stringField(body, 'model') || null,
      stream: body['stream'] !== false,
      maxTokens: numPredict(body),
      stop: stopStrings(options(body)['stop']),
      includeUsage: false,
      cachePrompt: false,
      promptText: suffix.length > 0 ? `${prompt}\n${suffix}` : prompt,
      prefix: prompt,
      suffix,
      messages: [],
      prediction: null,
    },
  };
}

/** Parses an Ollama `POST /api/chat` body (`messages`). */
export function parseOllamaChat(body: Readonly<Record<string, unknown>>): ParseResult {
  const messages = chatMessages(body['messages']);
  if (messages === null) return { ok: false, message: 'messages must be an array' };
  const last = messages[messages.length - 1];
  return {
    ok: true,
    generation: {
      protocol: 'ollama-chat',
      model: stringField(body, 'model') || null,
      stream: body['stream'] !== false,
      maxTokens: numPredict(body),
      stop: stopStrings(options(body)['stop']),
      includeUsage: false,
      cachePrompt: false,
      promptText: joinMessages(messages),
      prefix: last?.content ?? '',
      suffix: '',
      messages,
      prediction: null,
    },
  };
}

const MS_TO_NS = 1_000_000;

function finalFields(context: WireContext, summary: WireSummary): Record<string, unknown> {
  return {
    done: true,
    done_reason: summary.finish,
    total_duration: Math.round(summary.totalMs * MS_TO_NS),
    load_duration: 0,
    prompt_eval_count: context.promptTokens,
    prompt_eval_duration: Math.round(summary.promptMs * MS_TO_NS),
    eval_count: summary.completionTokens,
    eval_duration: Math.round(summary.predictedMs * MS_TO_NS),
  };
}

function line(payload: unknown): string {
  return `${JSON.stringify(payload)}\n`;
}

/** Ollama `/api/generate`: NDJSON lines with `response`, the last one `done: true` with counts and durations (ns). */
export const ollamaGenerateWire: WireFormat = {
  contentType: 'application/x-ndjson',
  opening() {
    return [];
  },
  content(context, event: PlannedEvent) {
    return line({ model: context.model, created_at: context.createdIso, response: event.text, done: false });
  },
  malformed() {
    return '{"model":"broken","response":\n';
  },
  closing(context, summary) {
    return [
      line({ model: context.model, created_at: context.createdIso, response: '', ...finalFields(context, summary) }),
    ];
  },
  whole(context, text, summary) {
    return { model: context.model, created_at: context.createdIso, response: text, ...finalFields(context, summary) };
  },
};

/** Ollama `/api/chat`: NDJSON lines with `message`, the last one `done: true` with counts and durations (ns). */
export const ollamaChatWire: WireFormat = {
  contentType: 'application/x-ndjson',
  opening() {
    return [];
  },
  content(context, event: PlannedEvent) {
    return line({
      model: context.model,
      created_at: context.createdIso,
      message: { role: 'assistant', content: event.text },
      done: false,
    });
  },
  malformed() {
    return '{"model":"broken","message":{"role":"assistant","content":\n';
  },
  closing(context, summary) {
    return [
      line({
        model: context.model,
        created_at: context.createdIso,
        message: { role: 'assistant', content: '' },
        ...finalFields(context, summary),
      }),
    ];
  },
  whole(context, text, summary) {
    return {
      model: context.model,
      created_at: context.createdIso,
      message: { role: 'assistant', content: text },
      ...finalFields(context, summary),
    };
  },
};
