import type { Clock } from '../clock';
import type { BackendRole, ChatMessage } from '../endpoint';
import { isBackendError } from '../errors';
import type { GenerationRun, GenerationService, RouteInfo } from '../generation/generationService';
import type { Scheduler } from '../scheduler';
import { CodeExtractor } from './codeExtractor';
import type { RefactorDocument } from './refactorDocument';
import type { OffsetRegion } from './regionTracking';
import { Reindenter, type ReindentOptions } from './reindent';
import { StreamingEditSession, type InterruptReason, type RestoreResult } from './streamingEditSession';

/** One refactor: what to ask, and where the answer goes. */
export interface RefactorJob {
  readonly document: RefactorDocument;
  /** The text the answer replaces (zero-length to insert). */
  readonly region: OffsetRegion;
  readonly messages: readonly ChatMessage[];
  /** Estimated prompt tokens and the answer budget, for the router's fit check. */
  readonly promptTokens: number;
  readonly maxOutputTokens: number;
  readonly reindent: ReindentOptions;
  /** Written before the first code (a blank line before inserted tests); `\n` line ends. */
  readonly leadingText: string;
  /** Written after the last code (the final newline the replaced text had); `\n` line ends. */
  readonly trailingText: string;
  /** `longContext` for "Retry on the long-context model"; otherwise the router decides. */
  readonly role?: BackendRole;
  /**
   * The answer expected if the model changed nothing (the code in the prompt's fence), sent as the request's
   * `prediction` to endpoints that take predicted outputs; absent when the answer is new code.
   */
  readonly prediction?: string;
  /** Extra request headers (the end-to-end suite sends the simulator's `x-sim-fault` through this). */
  readonly extraHeaders?: Readonly<Record<string, string>>;
}

/** What a refactor needs from its surroundings. */
export interface RefactorDeps {
  readonly service: GenerationService;
  readonly clock: Clock;
  readonly scheduler?: Scheduler;
  readonly frameMs?: number;
}

/** How a refactor ended. Every kind but `review` leaves the document as it was (or as the person made it). */
export type RefactorOutcome =
  | {
      readonly kind: 'review';
      readonly original: string;
      readonly text: string;
      readonly route: RouteInfo | null;
      /** True when a `context-too-long` answer from the burst model was retried on the long-context model. */
      readonly retriedOnLongContext: boolean;
    }
  | {
      readonly kind: 'failed';
      /** A `BackendError` for backend failures; anything else is a bug. */
      readonly error: unknown;
      readonly restore: RestoreResult;
      readonly route: RouteInfo | null;
      readonly retriedOnLongContext: boolean;
    }
  /** The answer hit the token budget: a cut-off refactor is never left in the document. */
  | {
      readonly kind: 'truncated';
      readonly restore: RestoreResult;
      readonly route: RouteInfo | null;
      readonly maxOutputTokens: number;
    }
  | { readonly kind: 'cancelled'; readonly restore: RestoreResult }
  /** The person edited inside the region (their edit wins) or closed the document. */
  | { readonly kind: 'interrupted'; readonly reason: InterruptReason }
  /** The model answered without any code. */
  | { readonly kind: 'empty'; readonly route: RouteInfo | null };

/** A running refactor. */
export interface RefactorRun {
  /** The edit session; the adapter forwards every document change to `session.documentChanged`. */
  readonly session: StreamingEditSession;
  /** The current generation (for live tokens/s and the route), null before it starts. */
  generation(): GenerationRun | null;
  /** Resolves when the stream has ended and the document is in review or back to its original; never rejects. */
  readonly outcome: Promise<RefactorOutcome>;
}

/**
 * Streams a refactor into a document: generation -> code extraction -> re-indentation -> frame-batched edits. On any
 * failure (error, disconnect, timeout, cancel, cut-off answer) the document goes back to its original text; a person's
 * edit inside the region stops the stream and is kept. A `context-too-long` answer from the burst model is retried
 * once on the long-context model, before anything was written.
 */
export function startRefactor(deps: RefactorDeps, job: RefactorJob, signal: AbortSignal): RefactorRun {
  const stop = new AbortController();
  const session = new StreamingEditSession(job.document, {
    region: job.region,
    clock: deps.clock,
    ...(deps.scheduler === undefined ? {} : { scheduler: deps.scheduler }),
    ...(deps.frameMs === undefined ? {} : { frameMs: deps.frameMs }),
    onInterrupted: () => stop.abort(),
  });
  const combined = AbortSignal.any([signal, stop.signal]);
  let current: GenerationRun | null = null;

  const attempt = async (role: BackendRole | undefined): Promise<'length' | 'done'> => {
    const extractor = new CodeExtractor();
    const reindenter = new Reindenter(job.reindent);
    let wroteLeading = false;
    let finishReason = '';
    const write = (code: string): void => {
      if (code.length === 0) return;
      const indented = reindenter.push(code);
      if (indented.length === 0) return;
      if (!wroteLeading) {
        wroteLeading = true;
        session.append(job.leadingText);
      }
      session.append(indented);
    };
    current = deps.service.start({
      task: 'refactor',
      signal: combined,
      promptTokens: job.promptTokens,
      maxOutputTokens: job.maxOutputTokens,
      ...(role === undefined ? {} : { role }),
      build: (endpoint) => ({
        target: endpoint.target,
        request: {
          messages: job.messages,
          maxTokens: job.maxOutputTokens,
          temperature: 0.1,
          // Chosen per endpoint: a failover candidate that does not take predicted outputs gets none.
          ...(job.prediction !== undefined && endpoint.predictedOutputs ? { prediction: job.prediction } : {}),
          ...(job.extraHeaders === undefined ? {} : { extraHeaders: job.extraHeaders }),
        },
      }),
    });
    for await (const event of current.events) {
      if (event.kind === 'text') write(extractor.push(event.text));
      else if (event.kind === 'finish') finishReason = event.reason;
    }
    write(extractor.finish());
    const tail = reindenter.finish();
    if (tail.length > 0) session.append(tail);
    return finishReason === 'length' || finishReason === 'max_tokens' ? 'length' : 'done';
  };

  const run = async (): Promise<RefactorOutcome> => {
    let retriedOnLongContext = false;
    let role = job.role;
    for (;;) {
      try {
        const ended = await attempt(role);
        const route = current?.route() ?? null;
        if (session.state === 'interrupted') return { kind: 'interrupted', reason: interruptReasonOf(session) };
        if (ended === 'length') {
          return { kind: 'truncated', restore: await session.restore(), route, maxOutputTokens: job.maxOutputTokens };
        }
        const finished = await session.finish(job.trailingText);
        if (finished.kind === 'interrupted') return { kind: 'interrupted', reason: finished.reason };
        if (finished.kind === 'empty') return { kind: 'empty', route };
        return { kind: 'review', original: session.original, text: finished.text, route, retriedOnLongContext };
      } catch (error) {
        const route = current?.route() ?? null;
        if (session.state === 'interrupted') return { kind: 'interrupted', reason: interruptReasonOf(session) };
        if (isBackendError(error) && error.reason === 'aborted' && signal.aborted) {
          return { kind: 'cancelled', restore: await session.restore() };
        }
        const burstServed = (route?.endpoint.role ?? 'burst') === 'burst';
        if (
          isBackendError(error) &&
          error.reason === 'context-too-long' &&
          !retriedOnLongContext &&
          role !== 'longContext' &&
          burstServed &&
          !session.hasWritten
        ) {
          retriedOnLongContext = true;
          role = 'longContext';
          continue;
        }
        return { kind: 'failed', error, restore: await session.restore(), route, retriedOnLongContext };
      }
    }
  };

  return { session, generation: () => current, outcome: run() };
}

function interruptReasonOf(session: StreamingEditSession): InterruptReason {
  return session.interruptedBy ?? 'edited-inside';
}
