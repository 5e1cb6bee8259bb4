/** A monotonic clock in milliseconds. Every duration in the extension is measured through this seam. */
export interface Clock {
  /** Milliseconds since an arbitrary origin; never goes backwards. */
  now(): number;
}

/** The real clock: `performance.now()`, which is monotonic (unlike `Date.now()`). */
export const systemClock: Clock = { now: () => performance.now() };

/** A clock that moves only when told to; for deterministic tests of latency behaviour. */
export class ManualClock implements Clock {
  private currentMs: number;

  constructor(startMs = 0) {
    this.currentMs = startMs;
  }

  now(): number {
    return this.currentMs;
  }

  /** Moves the clock forward by `ms` milliseconds. */
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('A monotonic clock cannot go backwards.');
    this.currentMs += ms;
  }
}
