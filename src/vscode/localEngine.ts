import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { systemClock } from '../core/clock';
import { isBackendError } from '../core/errors';
import type { Logger } from '../core/logger';
import { EngineSupervisor } from '../core/localEngine/engineSupervisor';
import type { EngineLease, EngineProcess, EngineState } from '../core/localEngine/engineSupervisor';
import { launchHost, newEngineKey } from '../core/localEngine/hostLauncher';
import {
  LOCAL_ENGINE_CONTEXT_TOKENS,
  LOCAL_ENGINE_SETTING_KEYS,
  downloadDestination,
  isLocalEngineConfigured,
  readLocalEngineConfig,
} from '../core/localEngine/localEngineConfig';
import type { LocalEngineConfig } from '../core/localEngine/localEngineConfig';
import { LocalEngineError } from '../core/localEngine/localEngineError';
import type { EngineLeases } from '../core/localEngine/localEngineTransport';
import { checkExistingModel, downloadModel } from '../core/localEngine/modelDownload';
import { systemScheduler } from '../core/scheduler';
import type { Redactor } from '../core/config/redact';
import type { SettingsSource } from '../core/config/settings';
import type { Transport } from '../core/stream/transport';
import { affectsAny } from './settingsSource';

/** What the local engine adapter needs. */
export interface LocalEngineDeps {
  readonly context: vscode.ExtensionContext;
  readonly settings: SettingsSource;
  readonly log: Logger;
  /** Learns each engine's per-run key before the engine starts, so no log line can ever show it. */
  readonly redactor: Pick<Redactor, 'addSecret'>;
  /** The network transport for the model download (proxies apply); never the local engine's own. */
  readonly transport: () => Transport;
}

/**
 * The local engine in VS Code: the supervisor (start on first use, idle stop, crash restart, stop on close) over the
 * host program `dist/localEngineHost.js`, the model download with a progress notification, one error message per
 * distinct problem, and a fresh start whenever a `latencyCopilot.localEngine.*` setting changes. It is the
 * `EngineLeases` the `LocalEngineTransport` asks for a running engine.
 */
export class LocalEngine implements EngineLeases, vscode.Disposable {
  private supervisor: EngineSupervisor;
  private readonly shownErrors = new Set<string>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly deps: LocalEngineDeps) {
    this.supervisor = this.createSupervisor();
    this.subscriptions.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!affectsAny(event, LOCAL_ENGINE_SETTING_KEYS)) return;
        // A new model, module folder or idle time: stop the running engine; the next use starts it with the new values.
        const previous = this.supervisor;
        this.supervisor = this.createSupervisor();
        this.shownErrors.clear();
        void previous.dispose();
      }),
    );
  }

  /** True when a model is configured, so the local engine is offered as a backend. */
  configured(): boolean {
    return isLocalEngineConfigured(readLocalEngineConfig(this.deps.settings));
  }

  state(): EngineState {
    return this.supervisor.state();
  }

  acquire(): Promise<EngineLease> {
    return this.supervisor.acquire();
  }

  private createSupervisor(): EngineSupervisor {
    const config = readLocalEngineConfig(this.deps.settings);
    return new EngineSupervisor({
      launch: () => this.launch(config),
      clock: systemClock,
      scheduler: systemScheduler,
      idleStopMs: config.idleStopMs,
      onStateChange: (state) => this.deps.log.info(`Local engine: ${state}`),
    });
  }

  private async launch(config: LocalEngineConfig): Promise<EngineProcess> {
    try {
      const modelPath = config.modelPath !== '' ? config.modelPath : await this.downloadedModel(config);
      const moduleDir =
        config.nodeLlamaCppPath !== ''
          ? config.nodeLlamaCppPath
          : join(this.deps.context.globalStorageUri.fsPath, 'node-llama-cpp');
      const apiKey = newEngineKey();
      this.deps.redactor.addSecret(apiKey);
      const host = await launchHost({
        hostScript: this.deps.context.asAbsolutePath(join('dist', 'localEngineHost.js')),
        apiKey,
        // One core is left to the editor and the extension host: node-llama-cpp's own choice (0) is at least 4 threads,
        // which on 2 cores decoded at 3.4 tok/s against 294-356 with 1.
        args: {
          modelPath,
          moduleDir,
          contextSize: LOCAL_ENGINE_CONTEXT_TOKENS,
          threads: Math.max(1, availableParallelism() - 1),
        },
        onLogLine: (line) => this.deps.log.debug(`Local engine: ${line}`),
      });
      this.deps.log.info(
        `Local engine: ${modelPath} loaded in ${Math.round(host.loadMs)} ms, ${host.contextSize} tokens of context, at ${host.baseUrl} (pid ${host.pid})`,
      );
      return host;
    } catch (error) {
      const failure =
        error instanceof LocalEngineError
          ? error
          : new LocalEngineError('start-failed', error instanceof Error ? error.message : String(error), {
              cause: error,
            });
      this.deps.log.error(`Local engine: ${failure.reason}: ${failure.message}`);
      this.showError(failure);
      throw failure;
    }
  }

  /**
   * The model from `modelUrl`: reused when already downloaded and it has the configured SHA-256 (checked on every start:
   * the SHA may have changed since; hashed once, then remembered by size and mtime), else downloaded (resuming) with a
   * progress bar. A file that does not match stays until the new download is verified and replaces it.
   */
  private async downloadedModel(config: LocalEngineConfig): Promise<string> {
    const destination = downloadDestination(join(this.deps.context.globalStorageUri.fsPath), config.modelUrl);
    const sha256 = config.modelSha256 === '' ? null : config.modelSha256;
    const existing = await checkExistingModel(destination, sha256);
    if (existing.kind === 'reusable') {
      if (existing.hashed) this.deps.log.info(`Local engine: ${destination} has the configured SHA-256`);
      return destination;
    }
    if (existing.kind === 'mismatch') {
      this.deps.log.warn(
        `Local engine: ${destination} has SHA-256 ${existing.sha256}, not the configured ${config.modelSha256}: downloading ${config.modelUrl} again`,
      );
    }
    await mkdir(dirname(destination), { recursive: true });
    const title = `Latency Copilot: downloading the local model (${config.modelUrl})`;
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title, cancellable: true },
      async (progress, token) => {
        const controller = new AbortController();
        const cancelling = token.onCancellationRequested(() => controller.abort());
        let reportedPercent = 0;
        try {
          const model = await downloadModel(
            this.deps.transport(),
            { url: config.modelUrl, destination, sha256 },
            {
              signal: controller.signal,
              onProgress: ({ receivedBytes, totalBytes }) => {
                const megabytes = `${(receivedBytes / 1e6).toFixed(0)}${totalBytes === null ? '' : ` of ${(totalBytes / 1e6).toFixed(0)}`} MB`;
                const percent =
                  totalBytes === null || totalBytes === 0
                    ? reportedPercent
                    : Math.floor((receivedBytes / totalBytes) * 100);
                progress.report({ message: megabytes, increment: percent - reportedPercent });
                reportedPercent = percent;
              },
            },
          );
          this.deps.log.info(
            `Local engine: downloaded ${model.bytes} bytes (sha256 ${model.sha256}${model.resumedFromBytes > 0 ? `, resumed from ${model.resumedFromBytes} bytes` : ''}) to ${model.path}`,
          );
          return model.path;
        } catch (error) {
          if (isBackendError(error) && error.reason === 'aborted') {
            throw new LocalEngineError(
              'download-failed',
              'The model download was cancelled; it resumes where it stopped when you change a latencyCopilot.localEngine setting or reload the window.',
            );
          }
          throw error;
        } finally {
          cancelling.dispose();
        }
      },
    );
  }

  /** One notification per distinct problem (until the settings change), with the buttons that fix it. */
  private showError(failure: LocalEngineError): void {
    if (this.shownErrors.has(failure.message)) return;
    this.shownErrors.add(failure.message);
    const openSettings = 'Open Settings';
    const showLog = 'Show Log';
    void vscode.window.showErrorMessage(`Latency Copilot: ${failure.message}`, openSettings, showLog).then((choice) => {
      if (choice === openSettings)
        void vscode.commands.executeCommand('workbench.action.openSettings', 'latencyCopilot.localEngine');
      else if (choice === showLog) void vscode.commands.executeCommand('latencyCopilot.showLog');
    });
  }

  /** Stops the engine for good (VS Code closing): the child process ends with the model's memory. */
  async dispose(): Promise<void> {
    for (const subscription of this.subscriptions) subscription.dispose();
    await this.supervisor.dispose();
  }
}
