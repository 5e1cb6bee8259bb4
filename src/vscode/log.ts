import * as vscode from 'vscode';
import { isBackendError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { Redactor } from '../core/config/redact';

/** The channel's name; its log file is `Latency Copilot.log` (the e2e suite reads it). */
export const LOG_CHANNEL_NAME = 'Latency Copilot';

/** Renders something thrown or attached to a log line as text (a BackendError with its reason and status). */
export function describeForLog(value: unknown): string {
  if (isBackendError(value))
    return `${value.name}[${value.reason}${value.status === null ? '' : ` ${value.status}`}]: ${value.message}`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The extension's log: a LogOutputChannel with levels (the person picks the level with "Developer: Set Log Level").
 * Every line, and everything attached to it, is rendered to text and redacted before the channel sees it: raw objects
 * never reach the channel, because it would format them itself, unredacted.
 */
export class RedactingLog implements Logger, vscode.Disposable {
  private readonly channel: vscode.LogOutputChannel;

  constructor(
    private readonly redactor: Redactor,
    channel?: vscode.LogOutputChannel,
  ) {
    this.channel = channel ?? vscode.window.createOutputChannel(LOG_CHANNEL_NAME, { log: true });
  }

  private render(message: string, details: readonly unknown[]): string {
    const text = details.length === 0 ? message : `${message} ${details.map(describeForLog).join(' ')}`;
    return this.redactor.redact(text);
  }

  trace(message: string, ...details: unknown[]): void {
    this.channel.trace(this.render(message, details));
  }

  debug(message: string, ...details: unknown[]): void {
    this.channel.debug(this.render(message, details));
  }

  info(message: string, ...details: unknown[]): void {
    this.channel.info(this.render(message, details));
  }

  warn(message: string, ...details: unknown[]): void {
    this.channel.warn(this.render(message, details));
  }

  error(message: string, ...details: unknown[]): void {
    this.channel.error(this.render(message, details));
  }

  /** Reveals the log in the Output panel. */
  show(): void {
    this.channel.show(true);
  }

  dispose(): void {
    this.channel.dispose();
  }
}
