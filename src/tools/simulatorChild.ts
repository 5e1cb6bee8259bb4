import { fork } from 'node:child_process';
import { isRecord } from '../core/json';

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
