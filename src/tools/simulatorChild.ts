import { fork } from 'node:child_process';
import { isRecord } from '../core/json';
import type { RunningSimulator } from '../sim/simulator';
import type { SimRequestLog } from '../sim/simRequestLog';

/**
 * A benchmark's simulator in a child process, so that its pacing never competes with the measured code for the event
 * loop. The child says `{ kind: 'ready', baseUrl }` once listening, answers `{ kind: 'report' }` with a message of the
 * benchmark's own shape, and leaves on `{ kind: 'close' }`.
 */
export interface SimulatorChild<Report> {
  readonly baseUrl: string;
  /** Asks the child for what it served; `readReport` picks the answer out of its messages. */
  report(): Promise<Report>;
  close(): void;
}

/**
 * Forks `script` with `args` (the benchmark itself, in its `--sim-child` mode) and waits for its base URL. `readReport`
 * turns one message from the child into the report, or null for a message that is not it.
 */
export async function forkSimulatorChild<Report>(
  script: string,
  args: readonly string[],
  readReport: (message: Readonly<Record<string, unknown>>) => Report | null,
): Promise<SimulatorChild<Report>> {
  const child = fork(script, [...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.on('message', (message: unknown) => {
      if (isRecord(message) && message['kind'] === 'ready' && typeof message['baseUrl'] === 'string')
        resolve(message['baseUrl']);
    });
  });
  return {
    baseUrl,
    report: () =>
      new Promise<Report>((resolve) => {
        child.on('message', (message: unknown) => {
          if (!isRecord(message) || message['kind'] !== 'report') return;
          const report = readReport(message);
          if (report !== null) resolve(report);
        });
        child.send({ kind: 'report' });
      }),
    close: () => {
      child.send({ kind: 'close' });
    },
  };
}

/**
 * The child's side: says the simulator is ready, answers `{ kind: 'report' }` with `report()` (sent as the report
 * message's fields), and closes the simulator and exits on `{ kind: 'close' }`.
 */
export function serveSimulatorChild(sim: RunningSimulator, report: () => Readonly<Record<string, unknown>>): void {
  process.send?.({ kind: 'ready', baseUrl: sim.baseUrl });
  process.on('message', (message: unknown) => {
    if (!isRecord(message)) return;
    if (message['kind'] === 'report') process.send?.({ ...report(), kind: 'report' });
    if (message['kind'] === 'close') void sim.close().then(() => process.exit(0));
  });
}

/** The generation requests the simulator served (health checks and model lists left out), oldest first. */
export function servedGenerations(sim: RunningSimulator): readonly SimRequestLog[] {
  return sim.requests.filter((request) => request.protocol !== null && request.method === 'POST');
}

/**
 * The tag a benchmark put in a request's body (`bench_stream`, sent through `extraBody`) to match the server's log to
 * its own requests; -1 when absent.
 */
export function benchStreamTag(body: unknown): number {
  return isRecord(body) && typeof body['bench_stream'] === 'number' ? body['bench_stream'] : -1;
}
