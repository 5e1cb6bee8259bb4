import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { EngineExit, EngineLauncher, EngineProcess } from './engineSupervisor';
import { ENGINE_KEY_ENV, hostArgumentList, parseHostMessage } from './hostMessages';
import type { HostArguments } from './hostMessages';
import { LocalEngineError } from './localEngineError';

/** How to start the engine host process. */
export interface HostLaunchOptions {
  /** The built host program (`dist/localEngineHost.js`). */
  readonly hostScript: string;
  readonly args: HostArguments;
  /** The per-run key the host's server will demand (`newEngineKey()` when absent); register it with the log's redactor. */
  readonly apiKey?: string;
  /** Max wait for the host to load the model and report its port, in ms (a 300 MB model loads in a few s). */
  readonly startTimeoutMs?: number;
  /** Max wait for a clean exit after asking the host to stop, in ms; then it is killed. */
  readonly stopTimeoutMs?: number;
  /** Each line the host writes to stderr (node-llama-cpp's warnings), for the log. */
  readonly onLogLine?: (line: string) => void;
}

/** A fresh per-run key for the engine's server: 32 random bytes, base64url (43 characters). */
export function newEngineKey(): string {
  return randomBytes(32).toString('base64url');
}

/** A started host: the supervisor's `EngineProcess`, plus its pid (tests kill it to prove crash recovery). */
export interface HostProcess extends EngineProcess {
  readonly pid: number;
  /** The window the host serves, in tokens. */
  readonly contextSize: number;
  /** Time the host took to start (module, binary, model), in ms. */
  readonly loadMs: number;
}

const DEFAULT_START_TIMEOUT_MS = 120_000;
const DEFAULT_STOP_TIMEOUT_MS = 5_000;
/** Last stderr bytes kept for the error message of a failed start. */
const STDERR_TAIL_CHARS = 2_000;

function exitOf(child: ChildProcess): Promise<EngineExit> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/**
 * Starts the host with `child_process.fork` (the running Node, or VS Code's own Node through ELECTRON_RUN_AS_NODE) and
 * resolves once it reports its port. Fails with `model-missing` before forking when the model file is not there, and
 * with the host's own reason (`binary-missing`, `model-missing`, `start-failed`) otherwise.
 */
export function launchHost(options: HostLaunchOptions): Promise<HostProcess> {
  if (!existsSync(options.args.modelPath)) {
    return Promise.reject(
      new LocalEngineError(
        'model-missing',
        `The model file ${options.args.modelPath} does not exist. Set latencyCopilot.localEngine.modelPath to a GGUF file, or give latencyCopilot.localEngine.modelUrl to download one.`,
      ),
    );
  }
  if (!existsSync(options.hostScript)) {
    return Promise.reject(
      new LocalEngineError(
        'start-failed',
        `The engine host ${options.hostScript} is missing; rebuild the extension (node esbuild.mjs).`,
      ),
    );
  }
  const apiKey = options.apiKey ?? newEngineKey();
  const child = fork(options.hostScript, hostArgumentList(options.args), {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    // Inside VS Code `process.execPath` is Electron: ELECTRON_RUN_AS_NODE makes it run as plain Node (plain Node ignores
    // it). The key goes in the environment, which only the person's own processes can read; the command line is
    // visible to every local user.
    env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', [ENGINE_KEY_ENV]: apiKey },
    execArgv: [],
  });
  const exited = exitOf(child);
  let stderrTail = '';
  let partialLine = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (text: string) => {
    stderrTail = (stderrTail + text).slice(-STDERR_TAIL_CHARS);
    const lines = (partialLine + text).split('\n');
    partialLine = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') options.onLogLine?.(line);
  });

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop' });
    else child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
    });
    const outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  };

  return new Promise<HostProcess>((resolve, reject) => {
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const timer = setTimeout(() => {
      settle(() =>
        reject(
          new LocalEngineError(
            'start-failed',
            `The local engine did not report ready within ${Math.round((options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) / 1000)} s.`,
          ),
        ),
      );
      child.kill('SIGKILL');
    }, options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    child.on('message', (raw: unknown) => {
      const message = parseHostMessage(raw);
      if (message === null) return;
      if (message.type === 'failed') {
        settle(() => reject(new LocalEngineError(message.reason, message.message)));
        return;
      }
      settle(() =>
        resolve({
          baseUrl: `http://127.0.0.1:${message.port}`,
          apiKey,
          pid: child.pid ?? -1,
          contextSize: message.contextSize,
          loadMs: message.loadMs,
          exited,
          stop,
        }),
      );
    });
    child.once('error', (error) =>
      settle(() =>
        reject(
          new LocalEngineError('start-failed', `The local engine could not be started: ${error.message}`, {
            cause: error,
          }),
        ),
      ),
    );
    void exited.then((exit) =>
      settle(() =>
        reject(
          new LocalEngineError(
            'start-failed',
            `The local engine exited while starting (${exit.signal ?? `code ${String(exit.code)}`})${stderrTail.trim() === '' ? '.' : `: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`}`,
          ),
        ),
      ),
    );
  });
}

/** The supervisor's launcher for these options. */
export function hostLauncher(options: HostLaunchOptions): EngineLauncher {
  return () => launchHost(options);
}
