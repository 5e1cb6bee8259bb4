import type { Clock } from './clock';

/** A scheduled callback that can still be cancelled. */
export interface ScheduledTask {
  /** Stops the callback from running; harmless after it ran. */
  cancel(): void;
}

/**
 * The timer seam: code that must act later (coalesced redraws, batched writes) asks this instead of calling
 * `setTimeout` itself, so tests can move time by hand and stay deterministic.
 */
export interface Scheduler {
  /** Runs `callback` once, after at least `delayMs` milliseconds. */
  schedule(delayMs: number, callback: () => void): ScheduledTask;
}

/** The real scheduler over `setTimeout`; its timers never keep the process alive on their own. */
export const systemScheduler: Scheduler = {
  schedule(delayMs, callback) {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

interface PendingTask {
  readonly dueMs: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** A scheduler driven by a `ManualClock`-style clock: callbacks run only inside `runDue()` or `advance()`. */
export class ManualScheduler implements Scheduler {
  private readonly pending: PendingTask[] = [];
  private nextOrder = 0;

  constructor(
    private readonly clock: Clock,
    /** Moves the underlying clock; `ManualClock.advance` bound to its clock. */
    private readonly advanceClock: (ms: number) => void,
  ) {}

  schedule(delayMs: number, callback: () => void): ScheduledTask {
    const task: PendingTask = {
      dueMs: this.clock.now() + Math.max(0, delayMs),
      order: this.nextOrder++,
      callback,
      cancelled: false,
    };
    this.pending.push(task);
    return {
      cancel: () => {
        task.cancelled = true;
      },
    };
  }

  /** Tasks not yet run nor cancelled. */
  pendingCount(): number {
    return this.pending.filter((task) => !task.cancelled).length;
  }

  /** Moves time forward by `ms`, running every task that falls due on the way, in order. */
  advance(ms: number): void {
    const endMs = this.clock.now() + ms;
    for (;;) {
      const next = this.nextDue(endMs);
      if (next === undefined) break;
      const stepMs = next.dueMs - this.clock.now();
      if (stepMs > 0) this.advanceClock(stepMs);
      this.remove(next);
      next.callback();
    }
    const restMs = endMs - this.clock.now();
    if (restMs > 0) this.advanceClock(restMs);
  }

  /** Runs the tasks already due at the current time. */
  runDue(): void {
    this.advance(0);
  }

  private nextDue(limitMs: number): PendingTask | undefined {
    let best: PendingTask | undefined;
    for (const task of this.pending) {
      if (task.cancelled || task.dueMs > limitMs) continue;
      if (best === undefined || task.dueMs < best.dueMs || (task.dueMs === best.dueMs && task.order < best.order))
        best = task;
    }
    return best;
  }

  private remove(task: PendingTask): void {
    const index = this.pending.indexOf(task);
    if (index >= 0) this.pending.splice(index, 1);
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]?.cancelled) this.pending.splice(i, 1);
  }
}
