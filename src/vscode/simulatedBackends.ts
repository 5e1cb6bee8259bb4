import type { Disposable } from 'vscode';
import type { BackendRole, ResolvedEndpoint } from '../core/endpoint';
import type { Logger } from '../core/logger';
import type { RunningSimulator, startSimulator } from '../sim/simulator';

/** The knobs of the simulated backends the person can set (`latencyCopilot.simulator.*`). */
export interface SimulatorSettings {
  /** Burst decode rate, in tokens per second. */
  readonly tokensPerSecond: number;
  /** Burst time to first token, in ms. */
  readonly ttftMs: number;
}

/** Request records the in-process simulators keep: they hold whole request bodies, megabytes for long-context ones. */
const SIM_REQUEST_LOG_LIMIT = 20;

// The simulated long-context backend is deliberately slower and larger than the burst one, like the real pairs it
// stands in for, so that routing and the speed panel show a visible difference.
const LONG_CONTEXT_TOKENS_PER_SEC = 250;
const LONG_CONTEXT_TTFT_MS = 400;
const LONG_CONTEXT_WINDOW = 200_000;
const BURST_WINDOW = 32_768;

type StartSimulator = typeof startSimulator;

function isRecord(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null;
}

function hasStartSimulator(value: unknown): value is { readonly startSimulator: StartSimulator } {
  return isRecord(value) && typeof value.startSimulator === 'function';
}

/**
 * Loads dist/simulator.js next to the extension bundle. `require` of a path esbuild leaves external: the chunk is
 * parsed only when the simulator is turned on, never at activation.
 */
function loadSimulatorChunk(): StartSimulator {
  const loaded: unknown = require('./simulator.js');
  if (!hasStartSimulator(loaded)) throw new Error('dist/simulator.js does not export startSimulator; rebuild with `node esbuild.mjs`.');
  return loaded.startSimulator;
}

/** The endpoints the simulated backends expose: labelled "Simulated", marked `simulated: true`. */
export function simulatedEndpoints(burst: RunningSimulator, longContext: RunningSimulator): readonly ResolvedEndpoint[] {
  const endpoint = (role: BackendRole, server: RunningSimulator, label: string, model: string, contextWindow: number): ResolvedEndpoint => ({
    id: `${role}#0`,
    role,
    label,
    preset: 'simulator',
    target: { baseUrl: `${server.baseUrl}/v1`, protocol: 'openai-chat', model },
    contextWindow,
    // The simulator serves /v1/completions with `suffix`, as OpenAI-compatible FIM servers do.
    fim: 'openai-suffix',
    simulated: true,
  });
  return [
    endpoint('burst', burst, 'Simulated burst (no real model)', 'sim-burst', BURST_WINDOW),
    endpoint('longContext', longContext, 'Simulated long-context (no real model)', 'sim-long-context', LONG_CONTEXT_WINDOW),
  ];
}

/**
 * The built-in simulated backends: two local simulator servers on 127.0.0.1 (a fast one and a slow long-context one),
 * started on demand in the extension host. They generate filler code, never a real model's answer.
 */
export class SimulatedBackends implements Disposable {
  private servers: Promise<{ burst: RunningSimulator; longContext: RunningSimulator }> | null = null;

  constructor(
    private readonly log: Logger,
    private readonly load: () => StartSimulator = loadSimulatorChunk,
  ) {}

  /** True once `start` was called and `stop` was not. */
  get running(): boolean {
    return this.servers !== null;
  }

  /** Starts the servers (once) and returns their endpoints. */
  async start(settings: SimulatorSettings): Promise<readonly ResolvedEndpoint[]> {
    if (this.servers === null) {
      const start = this.load();
      const startedAtMs = performance.now();
      this.servers = Promise.all([
        start({ tokensPerSec: settings.tokensPerSecond, ttftMs: settings.ttftMs, contextWindow: BURST_WINDOW, model: 'sim-burst', requestLogLimit: SIM_REQUEST_LOG_LIMIT }),
        start({ tokensPerSec: LONG_CONTEXT_TOKENS_PER_SEC, ttftMs: LONG_CONTEXT_TTFT_MS, contextWindow: LONG_CONTEXT_WINDOW, model: 'sim-long-context', requestLogLimit: SIM_REQUEST_LOG_LIMIT }),
      ]).then(([burst, longContext]) => {
        this.log.info(
          `Simulated backends started in ${(performance.now() - startedAtMs).toFixed(0)} ms: burst ${burst.baseUrl} ` +
            `(${settings.tokensPerSecond} tok/s, TTFT ${settings.ttftMs} ms), long-context ${longContext.baseUrl}. They are simulated: no real model.`,
        );
        return { burst, longContext };
      });
      this.servers.catch(() => {
        this.servers = null;
      });
    }
    const { burst, longContext } = await this.servers;
    this.update(settings);
    return simulatedEndpoints(burst, longContext);
  }

  /** Applies changed settings to a running burst server (requests already streaming keep their pace). */
  update(settings: SimulatorSettings): void {
    void this.servers?.then(({ burst }) => burst.setDefaults({ tokensPerSec: settings.tokensPerSecond, ttftMs: settings.ttftMs }));
  }

  /** Stops the servers. */
  async stop(): Promise<void> {
    const servers = this.servers;
    this.servers = null;
    if (servers === null) return;
    try {
      const { burst, longContext } = await servers;
      await Promise.all([burst.close(), longContext.close()]);
      this.log.info('Simulated backends stopped.');
    } catch (error) {
      this.log.warn(`Stopping the simulated backends failed: ${String(error)}`);
    }
  }

  dispose(): void {
    void this.stop();
  }
}
