import type { Clock } from '../clock';
import type { Scheduler, ScheduledTask } from '../scheduler';
import { LocalEngineError } from './localEngineError';
import type { LocalEngineErrorReason } from './localEngineError';

/** How a local engine process ended. */
export interface EngineExit {
  readonly code: number | null;
  readonly signal: string | null;
}

/** A started engine process that serves HTTP on a loopback port. */
export interface EngineProcess {
  /** Where it serves, e.g. `http://127.0.0.1:41237`. */
  readonly baseUrl: string;
  /** The per-run key its server demands (`Authorization: Bearer <key>`); never logged. */
  readonly apiKey: string;
  /** Resolves when the process ends, for whatever reason. */
  readonly exited: Promise<EngineExit>;
  /** Asks the process to end and waits for it. */
  stop(): Promise<void>;
}

/**
 * Starts one engine process and resolves once it serves (or rejects with a `LocalEngineError`: `binary-missing`,
 * `model-missing`, `start-failed`). The child-process details live in the launcher; the supervisor only sequences.
 */
export type EngineLauncher = () => Promise<EngineProcess>;

/** A running engine held for one request: where it serves, its key, and the release that lets it stop when idle. */
export interface EngineLease {
  readonly baseUrl: string;
  readonly apiKey: string;
  release(): void;
}

/** Tuning of the supervisor. */
export interface EngineSupervisorOptions {
  readonly launch: EngineLauncher;
  readonly clock: Clock;
  readonly scheduler: Scheduler;
  /** The engine stops after this long without a request, in ms (it holds the model in memory). */
  readonly idleStopMs: number;
  /** Crashes tolerated within `crashWindowMs` before giving up with `crashed`. */
  readonly maxCrashes?: number;
  readonly crashWindowMs?: number;
  /** Told about every state change, for the status bar and the log. */
  readonly onStateChange?: (state: EngineState) => void;
}

/** Where the engine is in its life. */
export type EngineState = 'stopped' | 'starting' | 'running' | 'failed';

const DEFAULT_MAX_CRASHES = 3;
/** Start failures that keep the supervisor failed until `reset()` (the person has to change something). */
const STICKY_REASONS: ReadonlySet<LocalEngineErrorReason> = new Set<LocalEngineErrorReason>([
  'binary-missing',
  'model-missing',
  'download-failed',
  'size-mismatch',
  'checksum-mismatch',
]);
const DEFAULT_CRASH_WINDOW_MS = 60_000;

/**
 * Runs the local engine on demand: it starts on first use (concurrent callers share one start), stops after
 * `idleStopMs` without use and on `dispose()` (VS Code closing), and starts again after a crash on the next use (at
 * once if requests were in flight). More than `maxCrashes` crashes within `crashWindowMs` give a `crashed` error until
 * `reset()`, so a broken model does not restart forever. A missing binary or model and a failed download also stay
 * failed until `reset()`.
 */
export class EngineSupervisor {
  private process: EngineProcess | null = null;
  private starting: Promise<EngineProcess> | null = null;
  private activeLeases = 0;
  private idleTimer: ScheduledTask | null = null;
  private crashTimesMs: number[] = [];
  private lastError: LocalEngineError | null = null;
  private currentState: EngineState = 'stopped';
  private disposed = false;
  /** Processes stopped on purpose; their exit is not a crash. */
  private readonly stopping = new WeakSet<EngineProcess>();

  constructor(private readonly options: EngineSupervisorOptions) {}

  /** The current state. */
  state(): EngineState {
    return this.currentState;
  }

  /**
   * Ensures the engine runs and takes a lease on it: the engine is not stopped for idleness until every lease is
   * released. Returns the base URL to send requests to and the key they must carry.
   */
  async acquire(): Promise<EngineLease> {
    if (this.disposed)
      throw new LocalEngineError('start-failed', 'The local engine is shut down (VS Code is closing).');
    if (this.currentState === 'failed' && this.lastError) throw this.lastError;
    this.activeLeases++;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    let engine: EngineProcess;
    try {
      engine = await this.ensureRunning();
    } catch (error) {
      this.releaseLease();
      throw error;
    }
    let released = false;
    return {
      baseUrl: engine.baseUrl,
      apiKey: engine.apiKey,
      release: () => {
        if (released) return;
        released = true;
        this.releaseLease();
      },
    };
  }

  /** Clears a `crashed`/failed state so the next `acquire()` tries again (after the user fixed the setting). */
  reset(): void {
    this.crashTimesMs = [];
    this.lastError = null;
    if (this.currentState === 'failed') this.setState('stopped');
  }

  /** Stops the engine now (idle, settings changed, or VS Code closing when `final`). */
  async stop(final = false): Promise<void> {
    if (final) this.disposed = true;
    this.idleTimer?.cancel();
    this.idleTimer = null;
    const starting = this.starting;
    if (starting) await starting.catch(() => undefined);
    const engine = this.process;
    this.process = null;
    if (engine) {
      this.stopping.add(engine);
      await engine.stop();
    }
    if (this.currentState !== 'failed') this.setState('stopped');
  }

  /** Stops the engine for good (VS Code closing). */
  dispose(): Promise<void> {
    return this.stop(true);
  }

  private releaseLease(): void {
    this.activeLeases = Math.max(0, this.activeLeases - 1);
    if (this.activeLeases === 0 && this.process && !this.disposed) {
      this.idleTimer?.cancel();
      this.idleTimer = this.options.scheduler.schedule(this.options.idleStopMs, () => {
        this.idleTimer = null;
        if (this.activeLeases === 0) void this.stop();
      });
    }
  }

  private ensureRunning(): Promise<EngineProcess> {
    if (this.process) return Promise.resolve(this.process);
    if (this.starting) return this.starting;
    this.setState('starting');
    const starting = this.options
      .launch()
      .then((engine) => {
        this.starting = null;
        if (this.disposed) {
          this.stopping.add(engine);
          void engine.stop();
          throw new LocalEngineError('start-failed', 'The local engine is shut down (VS Code is closing).');
        }
        this.process = engine;
        this.setState('running');
        void engine.exited.then((exit) => this.onExit(engine, exit));
        return engine;
      })
      .catch((error: unknown) => {
        this.starting = null;
        const failure =
          error instanceof LocalEngineError
            ? error
            : new LocalEngineError(
                'start-failed',
                `The local engine did not start: ${error instanceof Error ? error.message : String(error)}`,
                { cause: error },
              );
        // Missing files will not fix themselves, and a failed download must not start again (with its progress
        // notification) on every keystroke: stay failed until reset(). Other start failures may be transient.
        if (STICKY_REASONS.has(failure.reason)) {
          this.lastError = failure;
          this.setState('failed');
        } else if (this.currentState === 'starting') {
          this.setState('stopped');
        }
        throw failure;
      });
    this.starting = starting;
    return starting;
  }

  private onExit(engine: EngineProcess, exit: EngineExit): void {
    if (this.stopping.has(engine) || this.process !== engine) return;
    // An exit nobody asked for is a crash.
    this.process = null;
    const now = this.options.clock.now();
    const windowMs = this.options.crashWindowMs ?? DEFAULT_CRASH_WINDOW_MS;
    this.crashTimesMs = [...this.crashTimesMs.filter((time) => now - time < windowMs), now];
    if (this.crashTimesMs.length > (this.options.maxCrashes ?? DEFAULT_MAX_CRASHES)) {
      this.lastError = new LocalEngineError(
        'crashed',
        `The local engine crashed ${this.crashTimesMs.length} times in ${Math.round(windowMs / 1000)} s (last exit: ${exit.signal ?? `code ${String(exit.code)}`}). Check the model file, then run the command again.`,
      );
      this.setState('failed');
      return;
    }
    this.setState('stopped');
    // Requests were in flight: bring it back at once so their retries find it; otherwise on next use.
    if (this.activeLeases > 0 && !this.disposed) void this.ensureRunning().catch(() => undefined);
  }

  private setState(state: EngineState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.options.onStateChange?.(state);
  }
}
