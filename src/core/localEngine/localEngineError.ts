/**
 * Why the local engine (a GGUF model run by the extension itself) could not serve. Callers branch on `reason`:
 * - `binary-missing`: the engine's native binary for this platform is not installed;
 * - `model-missing`: the configured model file does not exist;
 * - `download-failed`: the model download failed (HTTP status, network, or the server cannot resume);
 * - `size-mismatch`: the downloaded file's size differs from the expected size;
 * - `checksum-mismatch`: the downloaded file's SHA-256 differs from the expected one;
 * - `start-failed`: the engine process exited or did not become ready while starting;
 * - `crashed`: the engine kept crashing (restarts exhausted).
 */
export type LocalEngineErrorReason =
  | 'binary-missing'
  | 'model-missing'
  | 'download-failed'
  | 'size-mismatch'
  | 'checksum-mismatch'
  | 'start-failed'
  | 'crashed';

/** A local-engine failure, told apart by `reason`; the message says what to do. */
export class LocalEngineError extends Error {
  readonly reason: LocalEngineErrorReason;

  constructor(reason: LocalEngineErrorReason, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LocalEngineError';
    this.reason = reason;
  }
}
