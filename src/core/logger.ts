/**
 * Where core and adapters write diagnostics. The extension's implementation (src/vscode/log.ts) redacts every line
 * before it reaches the LogOutputChannel; tests can pass `silentLogger` or collect lines.
 */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A logger that drops everything. */
export const silentLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
