/** The largest share of inline requests that may be hedged (sent twice). "The Tail at Scale" hedged about 2%. */
export const MAX_HEDGED_FRACTION = 0.1;

/** Inline requests remembered for the hedge cap: the cap holds over every stretch of this many requests. */
export const HEDGE_WINDOW_REQUESTS = 100;

/**
 * Keeps hedging to at most `MAX_HEDGED_FRACTION` of the last `HEDGE_WINDOW_REQUESTS` inline requests, so that a quiet
 * hour cannot be spent as a burst of hedges later. Only the request count matters, not time, so it is deterministic.
 */
export class HedgeBudget {
  /** One entry per recent request: true when it was hedged. A ring buffer of `windowSize` slots. */
  private readonly hedged: boolean[] = [];
  private nextSlot = 0;
  private hedgedInWindow = 0;

  constructor(
    private readonly maxFraction = MAX_HEDGED_FRACTION,
    private readonly windowSize = HEDGE_WINDOW_REQUESTS,
  ) {}

  /** Counts a new inline request; returns its slot for `tryHedge`. */
  noteRequest(): number {
    const slot = this.nextSlot;
    if (this.hedged.length < this.windowSize) {
      this.hedged.push(false);
    } else {
      if (this.hedged[slot] === true) this.hedgedInWindow -= 1;
      this.hedged[slot] = false;
    }
    this.nextSlot = (slot + 1) % this.windowSize;
    return slot;
  }

  /** Claims a hedge for the request in `slot` when the cap allows it; true when granted. */
  tryHedge(slot: number): boolean {
    if (this.hedged[slot] !== false) return false;
    if (this.hedgedInWindow + 1 > this.maxFraction * this.hedged.length) return false;
    this.hedged[slot] = true;
    this.hedgedInWindow += 1;
    return true;
  }

  /** Requests and hedges in the current window, for the panel and tests. */
  counts(): { readonly requests: number; readonly hedged: number } {
    return { requests: this.hedged.length, hedged: this.hedgedInWindow };
  }
}
