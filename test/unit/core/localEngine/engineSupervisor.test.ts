import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { EngineSupervisor } from '../../../../src/core/localEngine/engineSupervisor';
import type { EngineExit, EngineProcess, EngineState } from '../../../../src/core/localEngine/engineSupervisor';
import { LocalEngineError } from '../../../../src/core/localEngine/localEngineError';
import { ManualScheduler } from '../../../../src/core/scheduler';

/** A fake engine process whose exit the test controls. */
class FakeProcess implements EngineProcess {
  readonly exited: Promise<EngineExit>;
  stopped = false;
  private resolveExit: (exit: EngineExit) => void = () => {};

  /** A key per process, so a lease can be checked to carry its own engine's key. */
  readonly apiKey: string;

  constructor(readonly baseUrl: string) {
    this.apiKey = `key-of-${baseUrl}`;
    this.exited = new Promise((resolve) => {
      this.resolveExit = resolve;
    });
  }

  crash(): void {
    this.resolveExit({ code: null, signal: 'SIGSEGV' });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.resolveExit({ code: 0, signal: null });
  }
}

function setup(options: { failWith?: LocalEngineError; maxCrashes?: number } = {}) {
  const clock = new ManualClock();
  const scheduler = new ManualScheduler(clock, (ms) => clock.advance(ms));
  const launched: FakeProcess[] = [];
  const states: EngineState[] = [];
  let pendingLaunches: (() => void)[] = [];
  let failWith = options.failWith;
  const supervisor = new EngineSupervisor({
    clock,
    scheduler,
    idleStopMs: 60_000,
    maxCrashes: options.maxCrashes ?? 2,
    crashWindowMs: 10_000,
    onStateChange: (state) => states.push(state),
    launch: () =>
      new Promise<EngineProcess>((resolve, reject) => {
        pendingLaunches.push(() => {
          if (failWith) {
            reject(failWith);
            return;
          }
          const engine = new FakeProcess(`http://127.0.0.1:${40000 + launched.length}`);
          launched.push(engine);
          resolve(engine);
        });
      }),
  });
  /** Lets every launch requested so far finish. */
  const finishLaunches = async (): Promise<void> => {
    const now = pendingLaunches;
    pendingLaunches = [];
    for (const finish of now) finish();
    await flush();
  };
  const launchesWaiting = (): number => pendingLaunches.length;
  const setFailure = (error: LocalEngineError | undefined): void => {
    failWith = error;
  };
  return { clock, scheduler, supervisor, launched, states, finishLaunches, launchesWaiting, setFailure };
}

async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('EngineSupervisor', () => {
  it('starts on first use, once for concurrent callers', async () => {
    const { supervisor, launched, finishLaunches, launchesWaiting, states } = setup();
    expect(supervisor.state()).toBe('stopped');
    const first = supervisor.acquire();
    const second = supervisor.acquire();
    expect(launchesWaiting()).toBe(1);
    await finishLaunches();
    const [a, b] = await Promise.all([first, second]);
    expect(a.baseUrl).toBe('http://127.0.0.1:40000');
    expect(a.apiKey).toBe('key-of-http://127.0.0.1:40000');
    expect(b.baseUrl).toBe(a.baseUrl);
    expect(launched).toHaveLength(1);
    expect(states).toEqual(['starting', 'running']);
  });

  it('stops after the idle time once every lease is released, and not while one is held', async () => {
    const { supervisor, scheduler, launched, finishLaunches } = setup();
    const pending = supervisor.acquire();
    await finishLaunches();
    const lease = await pending;
    scheduler.advance(120_000);
    expect(launched[0]?.stopped).toBe(false);
    lease.release();
    lease.release(); // Twice is harmless.
    scheduler.advance(59_000);
    expect(launched[0]?.stopped).toBe(false);
    // Used again just before the idle stop: the timer restarts from the next release.
    const again = await supervisor.acquire();
    scheduler.advance(5_000);
    again.release();
    scheduler.advance(59_999);
    expect(launched[0]?.stopped).toBe(false);
    scheduler.advance(1);
    await flush();
    expect(launched[0]?.stopped).toBe(true);
    expect(supervisor.state()).toBe('stopped');
  });

  it('restarts at once after a crash while a request was in flight', async () => {
    const { supervisor, launched, finishLaunches, launchesWaiting } = setup();
    const pending = supervisor.acquire();
    await finishLaunches();
    const lease = await pending;
    launched[0]?.crash();
    await flush();
    expect(launchesWaiting()).toBe(1);
    await finishLaunches();
    expect(supervisor.state()).toBe('running');
    lease.release();
    const next = await supervisor.acquire();
    expect(next.baseUrl).toBe('http://127.0.0.1:40001');
  });

  it('restarts on next use after a crash while idle, and gives up (crashed) after too many crashes in the window', async () => {
    const { supervisor, launched, finishLaunches, clock } = setup({ maxCrashes: 2 });
    for (let round = 0; round < 3; round++) {
      const pending = supervisor.acquire();
      await finishLaunches();
      (await pending).release();
      launched[round]?.crash();
      await flush();
      clock.advance(1_000);
    }
    expect(supervisor.state()).toBe('failed');
    const error: unknown = await supervisor.acquire().catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('crashed');
    expect(launched).toHaveLength(3);
    supervisor.reset();
    const pending = supervisor.acquire();
    await finishLaunches();
    expect((await pending).baseUrl).toBe('http://127.0.0.1:40003');
  });

  it('forgets crashes older than the window', async () => {
    const { supervisor, launched, finishLaunches, clock } = setup({ maxCrashes: 1 });
    for (let round = 0; round < 4; round++) {
      const pending = supervisor.acquire();
      await finishLaunches();
      (await pending).release();
      launched[round]?.crash();
      await flush();
      clock.advance(11_000);
    }
    expect(supervisor.state()).toBe('stopped');
  });

  it("stays failed with the launcher's reason when the binary or the model is missing, until reset", async () => {
    const missing = new LocalEngineError(
      'model-missing',
      'The model file /x.gguf does not exist. Set latencyCopilot.local.modelPath.',
    );
    const { supervisor, finishLaunches, setFailure, launchesWaiting } = setup({ failWith: missing });
    const first = supervisor.acquire().catch((caught: unknown) => caught);
    await finishLaunches();
    expect(await first).toBe(missing);
    expect(supervisor.state()).toBe('failed');
    // No new launch while failed: the same clear error at once.
    expect(await supervisor.acquire().catch((caught: unknown) => caught)).toBe(missing);
    expect(launchesWaiting()).toBe(0);
    setFailure(undefined);
    supervisor.reset();
    const next = supervisor.acquire();
    await finishLaunches();
    expect((await next).baseUrl).toBe('http://127.0.0.1:40000');
  });

  it('stays failed after a failed or unverified download (no new download, with its notification, on every use)', async () => {
    for (const reason of ['download-failed', 'size-mismatch', 'checksum-mismatch'] as const) {
      const failure = new LocalEngineError(reason, `download: ${reason}`);
      const { supervisor, finishLaunches, launchesWaiting } = setup({ failWith: failure });
      const first = supervisor.acquire().catch((caught: unknown) => caught);
      await finishLaunches();
      expect(await first).toBe(failure);
      expect(supervisor.state()).toBe('failed');
      expect(await supervisor.acquire().catch((caught: unknown) => caught)).toBe(failure);
      expect(launchesWaiting()).toBe(0);
    }
  });

  it('treats other start failures as transient (the next use tries again)', async () => {
    const { supervisor, finishLaunches, setFailure } = setup({
      failWith: new LocalEngineError('start-failed', 'port in use'),
    });
    const first = supervisor.acquire().catch((caught: unknown) => caught);
    await finishLaunches();
    const error = await first;
    expect(error instanceof LocalEngineError && error.reason).toBe('start-failed');
    expect(supervisor.state()).toBe('stopped');
    setFailure(undefined);
    const next = supervisor.acquire();
    await finishLaunches();
    expect((await next).baseUrl).toBe('http://127.0.0.1:40000');
  });

  it('stops on dispose (VS Code closing) and refuses new work; an exit it asked for is no crash', async () => {
    const { supervisor, launched, finishLaunches, launchesWaiting } = setup();
    const pending = supervisor.acquire();
    await finishLaunches();
    await pending;
    await supervisor.dispose();
    expect(launched[0]?.stopped).toBe(true);
    expect(supervisor.state()).toBe('stopped');
    expect(launchesWaiting()).toBe(0);
    const error: unknown = await supervisor.acquire().catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('start-failed');
  });

  it('stops a process that finished starting after dispose', async () => {
    const { supervisor, launched, finishLaunches } = setup();
    const pending = supervisor.acquire().catch((caught: unknown) => caught);
    const disposing = supervisor.dispose();
    await finishLaunches();
    await disposing;
    const error = await pending;
    expect(error instanceof LocalEngineError && error.reason).toBe('start-failed');
    expect(launched[0]?.stopped).toBe(true);
  });
});
