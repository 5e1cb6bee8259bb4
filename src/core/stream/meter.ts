import type { Clock } from '../clock';
import type { RequestStats, TokensSource } from '../requestStats';
import type { StreamEvent, TimingsEvent, UsageEvent } from '../streamEvents';

/** Counts tokens in a piece of text (an estimate unless it is the model's own tokenizer). */
export type TokenCounter = (text: string) => number;

/** A rough count for when no tokenizer is loaded yet: about 4 characters per token in code and English. */
export const roughTokenCount: TokenCounter = (text) => Math.ceil(text.length / 4);

/**
 * The speed meter for one request, by the definitions in shared/notes/latency.md:
 * - TTFT: request sent -> first event carrying non-empty text or reasoning (a role-only chunk does not count);
 * - decode tokens/s: tokens after the first chunk / (last token time - first token time), so TTFT is excluded and a first
 *   chunk holding several tokens does not inflate the figure;
 * - token counts from the server when it gives them (usage, llama.cpp/Ollama timings), else estimated and labelled so;
 * - with predicted outputs, only the answer's own tokens: OpenAI counts rejected prediction tokens inside
 *   `completion_tokens`, so they are taken off the server's count before any figure uses it.
 * It does O(1) work per event; text is tokenised in batches, only when a figure is asked for.
 */
export class SpeedMeter {
  private startMs: number | null = null;
  private firstTokenMs: number | null = null;
  private lastTokenMs: number | null = null;
  private endMs: number | null = null;
  private firstChunkText = '';
  private outputText = '';
  /** Length of `outputText` already counted into `estimatedTokens`; the rest is counted when a figure is asked for. */
  private countedLength = 0;
  private estimatedTokens = 0;
  private firstChunkEstimatedTokens = 0;
  /** Tokens in the first chunk as the server counted them (llama.cpp streams), when it did. */
  private firstChunkServerTokens: number | null = null;
  private usage: UsageEvent | null = null;
  private timings: TimingsEvent | null = null;

  constructor(
    private readonly clock: Clock,
    private readonly countTokens: TokenCounter = roughTokenCount,
  ) {}

  /** Marks the moment the request is sent. */
  start(): void {
    this.startMs = this.clock.now();
  }

  /** Feeds one event, stamped with the clock's current time. */
  observe(event: StreamEvent): void {
    switch (event.kind) {
      case 'text':
      case 'reasoning': {
        if (event.text.length === 0) return;
        const now = this.clock.now();
        const serverTokens = event.kind === 'text' ? event.tokens : undefined;
        if (this.firstTokenMs === null) {
          this.firstTokenMs = now;
          this.firstChunkText = event.text;
          this.firstChunkServerTokens = serverTokens ?? null;
          this.firstChunkEstimatedTokens = serverTokens ?? this.countTokens(event.text);
          this.estimatedTokens = this.firstChunkEstimatedTokens;
          this.countedLength = event.text.length;
          this.lastTokenMs = now;
          this.outputText += event.text;
          return;
        }
        if (serverTokens !== undefined && this.countedLength === this.outputText.length) {
          // The server said how many tokens this is: count it exactly and skip the tokenizer.
          this.estimatedTokens += serverTokens;
          this.countedLength += event.text.length;
        }
        this.lastTokenMs = now;
        // O(1) per event: the text is counted in batches when a figure is asked for (at most a few times a second),
        // because tokenising every event cost 50-78 µs per token on a loaded machine.
        this.outputText += event.text;
        return;
      }
      case 'usage':
        // A usage chunk (`choices: []`) is not a token and does not move the last-token time.
        this.usage = event;
        return;
      case 'timings':
        this.timings = event;
        return;
      case 'finish':
        return;
    }
  }

  /** Output tokens so far: the server's count once known, else the running estimate. */
  outputTokens(): number {
    return this.serverAnswerTokens() ?? this.countPending();
  }

  /** Decode speed so far in tokens/s, from the running estimate; null before the second chunk. */
  liveTokensPerSec(): number | null {
    if (this.firstTokenMs === null || this.lastTokenMs === null || this.lastTokenMs <= this.firstTokenMs) return null;
    const afterFirst = this.countPending() - this.firstChunkEstimatedTokens;
    return (afterFirst * 1000) / (this.lastTokenMs - this.firstTokenMs);
  }

  /** Time to first token so far, in ms; null before it. */
  ttftMs(): number | null {
    return this.firstTokenMs === null || this.startMs === null ? null : this.firstTokenMs - this.startMs;
  }

  /** Ends the measurement (success, failure or cancel alike) and returns the figures. */
  finish(): RequestStats {
    if (this.endMs === null) this.endMs = this.clock.now();
    const startMs = this.startMs ?? this.endMs;
    const serverTokens = this.serverAnswerTokens();
    // Re-count the whole text once: a tokenizer splits joined text more truly than the sum of its pieces.
    const estimatedTotal = this.outputText.length > 0 ? this.countTokens(this.outputText) : 0;
    const outputTokens = serverTokens ?? estimatedTotal;
    const tokensSource: TokensSource = serverTokens !== null ? 'server' : 'estimate';
    const decodeTokensPerSec = this.decodeTokensPerSec(outputTokens, estimatedTotal);
    const prediction = this.predictionCounts();
    return {
      ttftMs: this.firstTokenMs === null ? null : this.firstTokenMs - startMs,
      decodeTokensPerSec,
      serverDecodeTokensPerSec: this.serverDecodeTokensPerSec(),
      outputTokens,
      tokensSource,
      promptTokens: this.usage?.promptTokens ?? this.timings?.promptTokens ?? null,
      cachedPromptTokens: this.usage?.cachedPromptTokens ?? this.timings?.cachedPromptTokens ?? null,
      // Only where the protocol counts them (Anthropic), so other records stay as they were.
      ...(this.usage?.cacheWritePromptTokens == null
        ? {}
        : { cacheWritePromptTokens: this.usage.cacheWritePromptTokens }),
      prefillTokensPerSec: this.prefillTokensPerSec(),
      totalMs: this.endMs - startMs,
      acceptedPredictionTokens: prediction?.accepted ?? null,
      rejectedPredictionTokens: prediction?.rejected ?? null,
      // The decode figure already counts only the answer's own tokens; with a prediction it is the effective speed.
      effectiveTokensPerSec: prediction === null ? null : decodeTokensPerSec,
    };
  }

  /**
   * The prediction figures from usage, or null when the request had none: some servers (Cerebras) report 0 accepted and
   * 0 rejected on every request, and a prediction that was used leaves at least one token accepted or rejected.
   */
  private predictionCounts(): { accepted: number | null; rejected: number | null } | null {
    const accepted = this.usage?.acceptedPredictionTokens ?? null;
    const rejected = this.usage?.rejectedPredictionTokens ?? null;
    if ((accepted ?? 0) + (rejected ?? 0) <= 0) return null;
    return { accepted, rejected };
  }

  /**
   * The server's count of the answer's tokens: its completion count less the rejected prediction tokens, which OpenAI
   * (and the providers that copy its usage) bill inside `completion_tokens` although they never reach the client.
   * Without that, a poor prediction would read as a faster backend.
   */
  private serverAnswerTokens(): number | null {
    const completion = this.serverCompletionTokens();
    if (completion === null) return null;
    const rejected = this.usage?.rejectedPredictionTokens ?? 0;
    return Math.max(0, completion - rejected);
  }

  /** Counts the text that arrived since the last count, and returns the running estimate. */
  private countPending(): number {
    if (this.countedLength < this.outputText.length) {
      this.estimatedTokens += this.countTokens(this.outputText.slice(this.countedLength));
      this.countedLength = this.outputText.length;
    }
    return this.estimatedTokens;
  }

  private serverCompletionTokens(): number | null {
    return this.usage?.completionTokens ?? this.timings?.predictedTokens ?? null;
  }

  private decodeTokensPerSec(outputTokens: number, estimatedTotal: number): number | null {
    if (this.firstTokenMs === null || this.lastTokenMs === null || this.lastTokenMs <= this.firstTokenMs) return null;
    // The first chunk's tokens are left out together with the time before it: counted by the server when it said
    // per event, else as the first chunk's estimated share scaled to the count in use (server total or estimate).
    const firstChunkShare =
      estimatedTotal > 0 ? Math.min(1, this.countTokens(this.firstChunkText) / estimatedTotal) : 0;
    const tokensAfterFirstChunk =
      this.firstChunkServerTokens !== null
        ? outputTokens - this.firstChunkServerTokens
        : outputTokens * (1 - firstChunkShare);
    if (tokensAfterFirstChunk <= 0) return null;
    return (tokensAfterFirstChunk * 1000) / (this.lastTokenMs - this.firstTokenMs);
  }

  private serverDecodeTokensPerSec(): number | null {
    const timings = this.timings;
    if (!timings || timings.predictedTokens === null || timings.predictedMs === null || timings.predictedMs <= 0)
      return null;
    return (timings.predictedTokens * 1000) / timings.predictedMs;
  }

  private prefillTokensPerSec(): number | null {
    const timings = this.timings;
    if (!timings || timings.promptTokens === null || timings.promptMs === null || timings.promptMs <= 0) return null;
    return (timings.promptTokens * 1000) / timings.promptMs;
  }
}
