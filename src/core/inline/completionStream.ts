import type { ResolvedEndpoint } from '../endpoint';
import { BackendError, isBackendError } from '../errors';
import type { GenerationRun } from '../generation/generationService';
import type { RequestRecord } from '../requestStats';
import type { FimPath } from './fimPaths';

/**
 * The code in a chat model's answer: a leading ``` fence line (and any sentence before it) is dropped, and the answer
 * ends at the closing fence. Text before the first line break is held back while it could still turn out to be a fence.
 */
export function chatAnswerCode(raw: string): string {
  const fence = /^[^\n]*```[^\n]*\n/m.exec(raw.slice(0, 400));
  let body = raw;
  if (fence !== null) body = raw.slice(fence.index + fence[0].length);
  else if (raw.trimStart().startsWith('`') && !raw.includes('\n')) return '';
  const close = body.indexOf('```');
  return close === -1 ? body : body.slice(0, close).replace(/\n$/, '');
}

let nextStreamId = 1;

/**
 * Characters per budgeted token past which a stream is cut off: about twice what code averages (3.5-4.5 per cl100k
 * token), so only a server that ignores the token cap reaches it.
 */
const MAX_CHARS_PER_TOKEN = 8;

/** One streamed completion, shared by every provider call that can use it (in-flight reuse and the cache). */
export class CompletionStream {
  /** A number unique within this process, in creation order (logs and benchmarks match requests with it). */
  readonly id = nextStreamId++;
  private rawText = '';
  private visibleText = '';
  private ended = false;
  private failure: BackendError | null = null;
  private waiters: (() => void)[] = [];
  private readonly controller = new AbortController();

  constructor(
    /** Where the stream's text starts: the document prefix it was requested for. */
    readonly key: string,
    /** The text after the cursor it was requested with (its first characters), which must still follow for reuse. */
    readonly suffixKey: string,
    /** When it was started, on the engine's clock (ms). */
    readonly startedAtMs: number,
    /** True for a request made for the state after accepting a suggestion. */
    readonly speculative: boolean,
    /** The token budget asked for (refined when the service picks the endpoint). */
    public maxTokens: number,
  ) {}

  /** The stream that replaced this one after its FIM path was refused (404/405/501); waiters move on to it. */
  successor: CompletionStream | null = null;

  /** Set when the request went out as a chat prompt: the answer may come wrapped in a Markdown fence. */
  chatAnswer = false;

  /** The FIM path the request was shaped for (set when the service builds it). */
  path: FimPath | null = null;

  /** Aborting this signal cancels the request. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The completion text so far (for chat answers, the code inside the fence). */
  get text(): string {
    return this.visibleText;
  }

  /** True once the stream has ended (normally, by error, or aborted). */
  get done(): boolean {
    return this.ended;
  }

  /** The error that ended the stream, if any. */
  get error(): BackendError | null {
    return this.failure;
  }

  /** True when the stream was aborted by the engine. */
  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** The endpoint serving it, once the service has routed it. */
  servedBy: ResolvedEndpoint | null = null;

  /**
   * True once the text holds the whole suggestion for the stream's own state (its line or block): reading stops there
   * and the request is ended, so that a server that ignores stop sequences or token caps costs no more than that.
   */
  enough: (text: string) => boolean = () => false;

  /** Set when reading stopped because `enough` said so, or the output ran past the stream's budget. */
  completedEarly = false;

  /** Cancels the request. */
  abort(): void {
    if (!this.ended) this.controller.abort();
  }

  /** Resolves at the next change: more text, or the end. */
  changed(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /**
   * Reads `run` to its end (the rest of the stream fills the cache after the first line was shown), calls `beforeEnd`,
   * then marks the end. Resolves with the finished record, or null when the run produced none; never rejects.
   */
  async consume(
    run: GenerationRun,
    beforeEnd: () => void = () => undefined,
    onText: () => void = () => undefined,
  ): Promise<RequestRecord | null> {
    try {
      for await (const event of run.events) {
        this.servedBy = run.route()?.endpoint ?? this.servedBy;
        if (event.kind !== 'text') continue;
        this.rawText += event.text;
        this.visibleText = this.chatAnswer ? chatAnswerCode(this.rawText) : this.rawText;
        // Leaving the loop ends the request (the service aborts it upstream) and records it as finished, not cancelled.
        if (this.enough(this.visibleText) || this.rawText.length > this.maxTokens * MAX_CHARS_PER_TOKEN) {
          this.completedEarly = true;
          run.complete();
          break;
        }
        this.notify();
        onText();
      }
    } catch (error) {
      this.servedBy = run.route()?.endpoint ?? this.servedBy;
      this.failure = isBackendError(error)
        ? error
        : new BackendError('network', 'The completion stream failed.', { cause: error });
    }
    // Runs before waiters hear of the end, so that a successor set here is seen by them.
    beforeEnd();
    this.ended = true;
    this.notify();
    return run.finished;
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}
