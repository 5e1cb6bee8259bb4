import * as vscode from 'vscode';
import { Redactor } from './core/redact';
import { readBooleanSetting } from './core/settings';
import { ConfigCommands, offerSimulatorIfUnconfigured } from './vscode/configureBackends';
import { EndpointRegistry, showConfigProblem } from './vscode/endpointRegistry';
import { RedactingLog } from './vscode/log';
import { ApiKeyStore } from './vscode/secrets';
import { createSettingsSource } from './vscode/settingsSource';
import { SimulatedBackends } from './vscode/simulatedBackends';

// The composition root: it builds objects, registers them, and pushes their disposables. Nothing else lives here.
export function activate(context: vscode.ExtensionContext): void {
  const activationStartMs = performance.now();
  // Configuration (issue 3): every log line is redacted; keys live only in SecretStorage; endpoints resolve in the
  // background (no network I/O, no workspace file reads on this path).
  const redactor = new Redactor();
  const log = new RedactingLog(redactor);
  const settings = createSettingsSource();
  const keys = new ApiKeyStore(context.secrets, redactor, log);
  const simulator = new SimulatedBackends(log);
  const endpoints = new EndpointRegistry({ settings, keys, simulator, log, reportProblem: showConfigProblem });
  const configDeps = { registry: endpoints, keys, log, globalState: context.globalState };
  context.subscriptions.push(log, keys, simulator, endpoints, ...new ConfigCommands(configDeps).register());
  endpoints.start();
  void offerSimulatorIfUnconfigured(configDeps, readBooleanSetting(settings, 'backends.offerSimulator'));
  log.info(`Activated in ${(performance.now() - activationStartMs).toFixed(1)} ms`);
}

export function deactivate(): void {
  // Disposables registered on the context are released by VS Code.
}
