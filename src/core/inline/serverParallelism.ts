/**
 * Whether an endpoint runs requests side by side or one at a time, learnt from what it does: a request started while
 * another was running that waited much longer for its first token than the endpoint's requests do alone was queued
 * behind it (a llama.cpp server with one slot, the usual local setup). Racing an old stream against a new request only
 * pays where both run at once; on a one-at-a-time server the old stream holds the slot the new one needs.
 */
export class ServerParallelism {
  private readonly endpoints = new Map<string, { soloTtftMs: number | null; evidence: number }>();

  /** Feeds one finished request: its TTFT (null when it never got a token) and whether another was running when it started. */
  observe(endpointId: string, ttftMs: number | null, overlapped: boolean): void {
    if (ttftMs === null || !Number.isFinite(ttftMs)) return;
    const entry = this.endpoints.get(endpointId) ?? { soloTtftMs: null, evidence: 0 };
    this.endpoints.set(endpointId, entry);
    if (!overlapped) {
      entry.soloTtftMs =
        entry.soloTtftMs === null ? ttftMs : entry.soloTtftMs + SMOOTHING * (ttftMs - entry.soloTtftMs);
      return;
    }
    if (entry.soloTtftMs === null) return;
    const queued = ttftMs > entry.soloTtftMs * QUEUED_FACTOR + QUEUED_MARGIN_MS;
    // Evidence either way moves the verdict; it is capped so that a server that changes (a restart with more slots)
    // is relearnt within a few requests.
    entry.evidence = Math.max(-EVIDENCE_CAP, Math.min(EVIDENCE_CAP, entry.evidence + (queued ? 1 : -1)));
  }

  /** True when the endpoint has been seen to queue overlapping requests more often than not. */
  isSerial(endpointId: string): boolean {
    return (this.endpoints.get(endpointId)?.evidence ?? 0) > 0;
  }
}

const SMOOTHING = 0.3;
/** An overlapped request whose TTFT exceeds the solo TTFT by this factor plus margin waited in a queue. */
const QUEUED_FACTOR = 1.15;
const QUEUED_MARGIN_MS = 10;
const EVIDENCE_CAP = 3;
