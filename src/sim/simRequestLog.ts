import type { SimProtocol, SimRequestSettings } from './simOptions';

/**
 * How a request ended.
 * - `completed`: the whole response was written.
 * - `client-left`: the client closed the connection before the end; the simulator stopped generating at once.
 * - `server-disconnected`: the `disconnect` fault destroyed the socket.
 * - `stalled`: the `stall` fault stopped the stream (until the client leaves, which then shows as `client-left`).
 * - `error`: an error status was sent (fault, auth, bad request, context too long).
 * - `in-progress`: still running.
 */
export type SimOutcome = 'completed' | 'client-left' | 'server-disconnected' | 'stalled' | 'error' | 'in-progress';

/** What the simulator recorded about one request. Times are `performance.now()` milliseconds in this process. */
export interface SimRequestLog {
  /** 1-based, in arrival order. */
  readonly id: number;
  readonly method: string;
  readonly path: string;
  readonly protocol: SimProtocol | null;
  readonly model: string | null;
  readonly stream: boolean;
  readonly status: number;
  /** The settings the request ran with (defaults plus its `x-sim-*` headers); null for non-generation requests. */
  readonly settings: SimRequestSettings | null;
  /** The request headers, with `authorization` and `x-api-key` redacted. */
  readonly headers: Readonly<Record<string, string>>;
  /** The parsed JSON body (null when there was none or it did not parse). */
  readonly body: unknown;
  /** cl100k tokens in the prompt; above 100,000 characters an estimate (characters / 4), to keep the loop free. */
  readonly promptTokens: number;
  readonly cachedPromptTokens: number;
  /** When the request's headers arrived. */
  readonly arrivalMs: number;
  /** The server slot the request generated in (0-based), or null when it never held one (an error, or it left the queue). */
  readonly slotId: number | null;
  /**
   * How long the request waited for a free slot, in ms, from the end of its body: 0 when one was free, else the time in
   * the queue (the TTFT then counts from the end of the wait); for a request that left while waiting, how long it had
   * waited. Null while waiting, and for requests that never asked for a slot (errors, GETs).
   */
  readonly slotWaitMs: number | null;
  /** When the first content event was written (the TTFT the client should measure, plus loopback latency). */
  readonly firstTokenMs: number | null;
  /** When the last content event written so far was written. */
  readonly lastTokenMs: number | null;
  /** When the response ended (completed, error sent, socket closed). */
  readonly endMs: number | null;
  /** Tokens the completion would have had if the client had stayed. */
  readonly tokensPlanned: number;
  readonly tokensWritten: number;
  readonly eventsWritten: number;
  readonly textWritten: string;
  readonly finishReason: string | null;
  readonly outcome: SimOutcome;
  readonly clientDisconnected: boolean;
  readonly clientDisconnectedMs: number | null;
  /** Planned tokens never generated because the client left (the simulator stops at once, as a good server does). */
  readonly tokensNotGenerated: number;
  /** Tokens generated after the client left: always 0 here, recorded so that reports can say so. */
  readonly tokensGeneratedAfterDisconnect: number;
  /**
   * The decode rate actually written: (tokensWritten - 1) / (lastTokenMs - firstTokenMs), in tokens/s, or null with
   * fewer than two tokens over a measurable time. The truth a client's meter is checked against.
   */
  readonly writtenTokensPerSec: number | null;
}

/** The simulator's own, writable view of a log entry. */
export type MutableSimRequestLog = { -readonly [K in keyof SimRequestLog]: SimRequestLog[K] };

/** Recomputes `writtenTokensPerSec` from the entry's token count and timestamps. */
export function updateWrittenRate(entry: MutableSimRequestLog): void {
  const spanMs = entry.firstTokenMs !== null && entry.lastTokenMs !== null ? entry.lastTokenMs - entry.firstTokenMs : 0;
  entry.writtenTokensPerSec =
    entry.tokensWritten >= 2 && spanMs > 0 ? ((entry.tokensWritten - 1) * 1000) / spanMs : null;
}

/** One human-readable line about a finished request (the CLI prints these). */
export function describeRequest(entry: SimRequestLog): string {
  const head = `#${entry.id} ${entry.method} ${entry.path}${entry.protocol ? ` ${entry.protocol}` : ''} ${entry.status}`;
  if (entry.settings === null || entry.outcome === 'error') return head;
  const waited = entry.slotWaitMs === null || entry.slotWaitMs === 0 ? '' : `${entry.slotWaitMs.toFixed(1)} ms`;
  if (entry.outcome === 'client-left' && entry.slotId === null) {
    return `${head} ${entry.stream ? 'stream' : 'whole'}, client left while waiting for a slot${waited ? ` (after ${waited})` : ''}, ${entry.tokensNotGenerated} tokens not generated`;
  }
  const wait = waited ? ` (waited ${waited} for slot ${entry.slotId ?? '?'})` : '';
  const ttft = `${entry.firstTokenMs === null ? 'no token' : `ttft ${(entry.firstTokenMs - entry.arrivalMs).toFixed(1)} ms`}${wait}`;
  const rate = entry.writtenTokensPerSec === null ? '' : ` at ${entry.writtenTokensPerSec.toFixed(1)} tok/s`;
  const tokens = `${entry.tokensWritten}/${entry.tokensPlanned} tokens${rate}`;
  const mode = entry.stream ? 'stream' : 'whole';
  switch (entry.outcome) {
    case 'client-left': {
      const at =
        entry.clientDisconnectedMs === null
          ? ''
          : ` at ${(entry.clientDisconnectedMs - entry.arrivalMs).toFixed(1)} ms`;
      return `${head} ${mode}, ${ttft}, client left${at} after ${tokens} (${entry.tokensNotGenerated} not generated)`;
    }
    case 'server-disconnected':
      return `${head} ${mode}, ${ttft}, socket destroyed by fault after ${tokens}`;
    case 'stalled':
      return `${head} ${mode}, ${ttft}, stalled by fault after ${tokens}`;
    default:
      return `${head} ${mode}, ${ttft}, ${tokens}, finish ${entry.finishReason ?? 'none'}`;
  }
}
