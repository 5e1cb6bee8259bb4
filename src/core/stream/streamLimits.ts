import { BackendError } from '../errors';
import { DEFAULT_MAX_MESSAGE_CHARS } from './framing';
import type { RequestTask } from '../requestStats';
import type { StreamEvent } from '../streamEvents';

/**
 * Wall time a whole request may take, per task, in ms: from sending it to the last byte of the answer. Past it the
 * stream is stopped as `timeout` with its text kept. These stop a server that trickles (a byte every few seconds keeps
 * the idle timeout happy forever); floods are the output budget's job. They are generous on purpose, because a slow
 * machine is not a hostile server: inline asks for at most a block (256 tokens at 10 tok/s after a slow prefill is
 * under a minute, and the person has moved on by then); a refactor may rewrite a long selection on a CPU-only model;
 * a repository task prefills 100,000+ tokens (minutes on a laptop) before a long answer. The probe asks for 256 tokens.
 */
export const DEFAULT_DEADLINE_MS: Readonly<Record<RequestTask, number>> = {
  inline: 60_000,
  'next-edit': 60_000,
  refactor: 600_000,
  repo: 1_800_000,
  probe: 120_000,
};

/** Output characters counted as one token by the budget: a cheap estimate, so the hot path stays O(1) per event. */
export const CHARS_PER_BUDGET_TOKEN = 4;
/** The budget allows this many times the request's max tokens (a server's tokenizer is not ours). */
const BUDGET_FACTOR = 2;
/** ...plus this many tokens, so that a tiny cap (4 tokens of deep indentation) is never cut by the estimate. */
const BUDGET_SLACK_TOKENS = 32;
/** Raw bytes allowed per budgeted token: one SSE event per token is 100-400 bytes of JSON (more with logprobs). */
const STREAM_BYTES_PER_BUDGET_TOKEN = 1024;
/** Raw bytes allowed besides the per-token share: headers-like first events, usage and timings chunks. */
const STREAM_SLACK_BYTES = 1_048_576;
/**
 * Servers may echo the prompt in one event: llama.cpp's last event carries `prompt`, Ollama's last line lists the
 * prompt's token ids in `context` (about 7 characters per token against 4 of text). An event may therefore be as long
 * as this many times the request body, on top of the fixed cap.
 */
const PROMPT_ECHO_FACTOR = 2;
/** Without a usable max tokens figure, the stream is still capped at this many bytes. */
const UNBUDGETED_STREAM_BYTES = 64 * 1_048_576;

/** The limits one request streams under. */
export interface StreamLimits {
  /** Longest incomplete event or line, in characters (see `FramingOptions.maxMessageChars`). */
  readonly maxMessageChars: number;
  /** Estimated output tokens (text and reasoning) past which the server is taken to ignore max tokens. */
  readonly maxOutputTokens: number;
  /** Raw body bytes past which the stream is stopped, whatever they hold. */
  readonly maxStreamBytes: number;
}

/** The limits for a request asking for `maxTokens` tokens whose JSON body is `requestBodyChars` characters long. */
export function streamLimitsFor(maxTokens: number, requestBodyChars: number): StreamLimits {
  const echo = PROMPT_ECHO_FACTOR * Math.max(0, requestBodyChars);
  const maxMessageChars = DEFAULT_MAX_MESSAGE_CHARS + echo;
  if (!Number.isFinite(maxTokens) || maxTokens <= 0) {
    return {
      maxMessageChars,
      maxOutputTokens: Number.POSITIVE_INFINITY,
      maxStreamBytes: UNBUDGETED_STREAM_BYTES + echo,
    };
  }
  const maxOutputTokens = BUDGET_FACTOR * maxTokens + BUDGET_SLACK_TOKENS;
  return {
    maxMessageChars,
    maxOutputTokens,
    maxStreamBytes: STREAM_SLACK_BYTES + echo + maxOutputTokens * STREAM_BYTES_PER_BUDGET_TOKEN,
  };
}

/**
 * Counts a stream's output against its budget in O(1) per event: a text event's own token count when the server
 * gives one (llama.cpp), else its characters / 4. Never tokenises.
 */
export class OutputBudget {
  private countedTokens = 0;
  private estimatedChars = 0;

  constructor(
    private readonly maxOutputTokens: number,
    private readonly requestedTokens: number,
  ) {}

  /** Adds one event; throws a `malformed` `BackendError` once the output is past the budget. */
  add(event: StreamEvent): void {
    if (event.kind === 'text' && event.tokens !== undefined) this.countedTokens += event.tokens;
    else if (event.kind === 'text' || event.kind === 'reasoning') this.estimatedChars += event.text.length;
    else return;
    if (this.countedTokens + this.estimatedChars / CHARS_PER_BUDGET_TOKEN > this.maxOutputTokens) {
      throw new BackendError(
        'malformed',
        `The server kept writing past ${Math.round(this.maxOutputTokens).toLocaleString('en-US')} tokens when ${this.requestedTokens.toLocaleString('en-US')} were asked for: it ignores the token limit, so the request was stopped and the text so far kept.`,
        { limit: 'output-tokens' },
      );
    }
  }
}

/** Passes body chunks through, failing the stream as `malformed` once more than `maxBytes` bytes have come. */
export async function* capBodyBytes(
  body: AsyncIterable<Uint8Array>,
  maxBytes: number,
): AsyncGenerator<Uint8Array, void, undefined> {
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      throw new BackendError(
        'malformed',
        `The server sent more than ${maxBytes.toLocaleString('en-US')} bytes for one answer; the request was stopped and the text so far kept.`,
        { limit: 'output-bytes' },
      );
    }
    yield chunk;
  }
}
