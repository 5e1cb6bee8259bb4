// Starts and stops a real llama.cpp `llama-server` for the engine tests and the engine benchmark.
// The server binds 127.0.0.1 on a port it picks itself (`--port 0`, read back from its log: no race for a free port),
// runs in its own process group (so stopping it never leaves a child behind), and logs to a file the tests can read.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** How to run the server. */
export interface LlamaServerOptions {
  readonly binary: string;
  readonly modelPath: string;
  /** Context window to serve, in tokens (`-c`). */
  readonly contextSize: number;
  /** CPU threads (`-t` and `-tb`); 1 keeps figures steady on a shared 2-core machine. */
  readonly threads: number;
  /** Bearer key the server requires (`--api-key`); none when absent. */
  readonly apiKey?: string;
  /** Parallel slots (`-np`). One slot makes cache reuse and cancellation observable. */
  readonly slots?: number;
  /** Where the server's log goes. */
  readonly logFile: string;
  /** Max wait for the model to load, in ms. */
  readonly startTimeoutMs?: number;
}

/** A running server. */
export interface RunningLlamaServer {
  /** The server root, e.g. `http://127.0.0.1:43121` (OpenAI routes are under `${baseUrl}/v1`). */
  readonly baseUrl: string;
  readonly pid: number;
  readonly logFile: string;
  /** The server's log so far. */
  log(): string;
  /** Stops the whole process group (SIGTERM, then SIGKILL after 5 s). Safe to call twice. */
  stop(): Promise<void>;
}

/** `llama-server --version` output, e.g. `version: 0.5.0-dev (build 1, commit de3ff81)` (older: `version: 1 (de3ff81)`). */
export function llamaServerVersion(binary: string): { readonly version: string; readonly commit: string | null } {
  const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  const text = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  const line = text.split('\n').find((candidate) => candidate.startsWith('version:')) ?? text.trim();
  const commit = /commit ([0-9a-f]{7,40})\b/.exec(line)?.[1] ?? /\(([0-9a-f]{7,40})\)/.exec(line)?.[1] ?? null;
  return { version: line.trim(), commit };
}

/** Runs the project's build script (reuses a cached binary) and returns the binary's path. */
export function ensureLlamaServer(projectRoot: string = process.cwd()): string {
  const script = join(projectRoot, 'test', 'engine', 'buildLlamaServer.sh');
  const result = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lastLine = (result.stdout ?? '').trim().split('\n').pop() ?? '';
  if (result.status !== 0 || lastLine === '') {
    throw new Error(`test/engine/buildLlamaServer.sh failed (exit ${String(result.status)}); see its messages above.`);
  }
  return lastLine;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Starts llama-server and waits until `/health` answers 200 (model loaded). */
export async function startLlamaServer(options: LlamaServerOptions): Promise<RunningLlamaServer> {
  const args = [
    '-m',
    options.modelPath,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '-c',
    String(options.contextSize),
    '-t',
    String(options.threads),
    '-tb',
    String(options.threads),
    '-np',
    String(options.slots ?? 1),
    // Keep the server from trying anything on the network and from opening a browser UI.
    '--no-webui',
  ];
  if (options.apiKey !== undefined) args.push('--api-key', options.apiKey);
  const logFd = openSync(options.logFile, 'w');
  const child = spawn(options.binary, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${options.binary}`);

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-pid, 'SIGTERM'); // The whole group: our own server and nothing else.
    } catch {
      return; // Already gone.
    }
    const done = await Promise.race([exited(child).then(() => true), sleep(5_000).then(() => false)]);
    if (!done) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Gone between the check and the kill.
      }
      await exited(child);
    }
  };
  const log = (): string => readFileSync(options.logFile, 'utf8');

  const deadline = performance.now() + (options.startTimeoutMs ?? 120_000);
  let baseUrl: string | null = null;
  try {
    while (performance.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `llama-server exited (${String(child.exitCode ?? child.signalCode)}) while starting:\n${log().slice(-3000)}`,
        );
      }
      baseUrl ??= /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(log())?.[1] ?? null;
      if (baseUrl !== null) {
        const healthy = await fetch(`${baseUrl}/health`).then(
          (response) => response.status === 200,
          () => false,
        );
        if (healthy) return { baseUrl, pid, logFile: options.logFile, log, stop };
      }
      await sleep(100);
    }
    throw new Error(`llama-server did not become healthy in time:\n${log().slice(-3000)}`);
  } catch (error) {
    await stop();
    throw error;
  }
}
