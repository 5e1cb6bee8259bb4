/** Gaps between provider calls longer than this (ms) are pauses, not typing, and do not move the typing pace. */
const PAUSE_MS = 1_000;
/** Weight of the newest gap in the moving average. */
const SMOOTHING = 0.25;

/** The person's typing pace, from the times VS Code calls the provider (about one call per keystroke). */
export class TypingPace {
  private lastCallMs: number | null = null;
  private averageGapMs: number | null = null;

  /** Notes a provider call at `nowMs`. */
  note(nowMs: number): void {
    if (this.lastCallMs !== null) {
      const gap = nowMs - this.lastCallMs;
      if (gap > 0 && gap < PAUSE_MS)
        this.averageGapMs =
          this.averageGapMs === null ? gap : this.averageGapMs + SMOOTHING * (gap - this.averageGapMs);
    }
    this.lastCallMs = nowMs;
  }

  /** Average gap between keystrokes while typing, in ms; null until measured. */
  keystrokeGapMs(): number | null {
    return this.averageGapMs;
  }
}

/**
 * The optional adaptive delay before a network request (never before a cache hit), in ms: a request is worth sending
 * once the person has paused for longer than their usual keystroke gap. The backend's TTFT is subtracted, because the
 * wait for the first token already covers that much of the pause. Zero when off or before the pace is known.
 */
export function adaptiveDelayMs(keystrokeGapMs: number | null, ttftMs: number | null, maxDelayMs: number): number {
  if (keystrokeGapMs === null) return 0;
  // VS Code has already waited 50 ms after the keystroke before calling the provider.
  const wanted = 1.5 * keystrokeGapMs - 50 - (ttftMs ?? 0);
  return Math.round(Math.min(maxDelayMs, Math.max(0, wanted)));
}
