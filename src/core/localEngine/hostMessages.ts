import { isRecord } from '../json';
import type { LocalEngineErrorReason } from './localEngineError';

/** The engine host is ready: it serves the OpenAI protocol on `http://127.0.0.1:<port>/v1`. */
export interface HostReadyMessage {
  readonly type: 'ready';
  readonly port: number;
  /** The context window the host serves, in tokens. */
  readonly contextSize: number;
  /** Time from the host's start to ready (module, binary and model loaded), in ms. */
  readonly loadMs: number;
}

/** The engine host could not start; `reason` tells the supervisor whether retrying can help. */
export interface HostFailedMessage {
  readonly type: 'failed';
  readonly reason: LocalEngineErrorReason;
  readonly message: string;
}

/** Messages from the engine host process to the extension (over the `fork` IPC channel). */
export type HostMessage = HostReadyMessage | HostFailedMessage;

/**
 * The environment variable that carries the engine's per-run key from the launcher to the host. Not an argument: any
 * local user can read another's command lines (`ps`), while a process's environment is readable only by its owner. The
 * host removes it from its environment at once, so nothing it starts inherits it.
 */
export const ENGINE_KEY_ENV = 'LATENCY_COPILOT_ENGINE_KEY';

/** The shortest key the host accepts (the launcher's are 43 characters: 32 random bytes in base64url). */
export const MIN_ENGINE_KEY_LENGTH = 32;

/** The command-line arguments of the host: everything it needs, nothing secret. */
export interface HostArguments {
  /** The GGUF file to load. */
  readonly modelPath: string;
  /** A folder where `node-llama-cpp` resolves from (its `node_modules` parent, or the package folder itself). */
  readonly moduleDir: string;
  /** Context window to allocate, in tokens (never more than the model's training length); 0 means 8,192. */
  readonly contextSize: number;
  /** CPU threads for decoding; 0 lets node-llama-cpp choose. */
  readonly threads: number;
}

const REASONS: readonly LocalEngineErrorReason[] = [
  'binary-missing',
  'model-missing',
  'download-failed',
  'size-mismatch',
  'checksum-mismatch',
  'start-failed',
  'crashed',
];

function isReason(value: unknown): value is LocalEngineErrorReason {
  return REASONS.some((reason) => reason === value);
}

/** Checks a message from the host process (another program: validated like any input). */
export function parseHostMessage(value: unknown): HostMessage | null {
  if (!isRecord(value)) return null;
  if (value['type'] === 'ready') {
    const port = value['port'];
    const contextSize = value['contextSize'];
    const loadMs = value['loadMs'];
    if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65_535) return null;
    if (typeof contextSize !== 'number' || typeof loadMs !== 'number') return null;
    return { type: 'ready', port, contextSize, loadMs };
  }
  if (value['type'] === 'failed') {
    const reason = value['reason'];
    const message = value['message'];
    if (!isReason(reason) || typeof message !== 'string') return null;
    return { type: 'failed', reason, message };
  }
  return null;
}

/** The host's argv, in the order `parseHostArguments` reads them. */
export function hostArgumentList(args: HostArguments): string[] {
  return [
    '--model',
    args.modelPath,
    '--module-dir',
    args.moduleDir,
    '--context',
    String(args.contextSize),
    '--threads',
    String(args.threads),
  ];
}

/** Reads the host's argv (the part after the script path); null when something is missing or not a number. */
export function parseHostArguments(argv: readonly string[]): HostArguments | null {
  const valueOf = (flag: string): string | undefined => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const modelPath = valueOf('--model');
  const moduleDir = valueOf('--module-dir');
  const contextSize = Number(valueOf('--context') ?? '0');
  const threads = Number(valueOf('--threads') ?? '0');
  if (
    !modelPath ||
    !moduleDir ||
    !Number.isInteger(contextSize) ||
    contextSize < 0 ||
    !Number.isInteger(threads) ||
    threads < 0
  )
    return null;
  return { modelPath, moduleDir, contextSize, threads };
}
