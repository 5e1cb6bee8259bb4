import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import { isBackendError } from '../core/errors';
import type { Logger } from '../core/logger';
import type { EndpointForMessage, UserAction, UserMessage } from '../core/speed/userMessages';
import { messageForBackendError, messageForUnexpectedError } from '../core/speed/userMessages';
import { CONFIG_COMMANDS } from './endpointRegistry';
import { openBackendSettings } from './settingsSource';

/** The same message is shown at most once per this many ms (inline completions can fail on every keystroke). */
const REPEAT_SUPPRESSION_MS = 60_000;

const BUTTONS: Readonly<Record<UserAction, string>> = {
  setApiKey: 'Set API Key',
  configureBackends: 'Configure Backends',
  openSettings: 'Open Settings',
  showLog: 'Show Log',
  retry: 'Retry',
};

/**
 * Shows a failed request as one clear, actionable notification (which endpoint, what to do, with buttons that do it),
 * and logs it. Cancellations are not shown. A message already shown within the last minute is only logged.
 */
export class BackendErrorNotifier {
  private readonly lastShownMs = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    private readonly clock: Clock,
  ) {}

  /**
   * Reports `error` from a request to `endpoint` (null when no endpoint was reached). `retry` runs when the person
   * presses Retry; without it no Retry button is offered. `what` names the feature for unexpected errors ("Refactor").
   */
  report(error: unknown, endpoint: EndpointForMessage | null, what: string, retry?: () => void): void {
    if (isBackendError(error) && error.reason === 'aborted') return;
    const message: UserMessage =
      isBackendError(error) && endpoint !== null
        ? messageForBackendError(error, endpoint)
        : isBackendError(error)
          ? {
              severity: 'error',
              text: error.message,
              actions: error.reason === 'not-configured' ? ['configureBackends'] : ['showLog'],
            }
          : messageForUnexpectedError(error, what);
    const logLine = `${what}: ${message.text}`;
    if (message.severity === 'error') this.log.error(logLine);
    else this.log.warn(logLine);

    const nowMs = this.clock.now();
    const last = this.lastShownMs.get(message.text);
    if (last !== undefined && nowMs - last < REPEAT_SUPPRESSION_MS) return;
    this.lastShownMs.set(message.text, nowMs);
    this.show(message, retry);
  }

  private show(message: UserMessage, retry: (() => void) | undefined): void {
    const actions = message.actions.filter((action) => action !== 'retry' || retry !== undefined);
    const buttons = actions.map((action) => BUTTONS[action]);
    const text = `Latency Copilot: ${message.text}`;
    const shown =
      message.severity === 'error'
        ? vscode.window.showErrorMessage(text, ...buttons)
        : message.severity === 'warning'
          ? vscode.window.showWarningMessage(text, ...buttons)
          : vscode.window.showInformationMessage(text, ...buttons);
    void shown.then((choice) => {
      const action = actions.find((candidate) => BUTTONS[candidate] === choice);
      if (action === undefined) return;
      if (action === 'retry') retry?.();
      else if (action === 'setApiKey') void vscode.commands.executeCommand(CONFIG_COMMANDS.setApiKey);
      else if (action === 'configureBackends') void vscode.commands.executeCommand(CONFIG_COMMANDS.configureBackends);
      else if (action === 'openSettings') void openBackendSettings();
      else void vscode.commands.executeCommand(CONFIG_COMMANDS.showLog);
    });
  }
}
