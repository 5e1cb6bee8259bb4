import { join } from 'node:path';
import * as vscode from 'vscode';
import { backendDetails } from '../core/speed/backendDetails';
import type { Clock } from '../core/clock';
import type { ContextWindowInfo } from '../core/routing/contextWindow';
import type { ResolvedEndpoint } from '../core/endpoint';
import type { Logger } from '../core/logger';
import type { NextEditStatus } from '../core/nextEdit/nextEditTypes';
import { runExportCommand } from '../core/commands/commandFlows';
import { ProbeBoard } from '../core/speed/probeBoard';
import type { EndpointProber } from '../core/speed/probeBoard';
import type { EndpointHealthSnapshot } from '../core/routing/endpointHealth';
import { systemScheduler } from '../core/scheduler';
import { SpeedHistory, historyToCsv, historyToJson } from '../core/speed/speedHistory';
import { StatsHub } from '../core/speed/statsHub';
import { readBooleanSetting, readNumberSetting } from '../core/config/settings';
import type { SettingsSource } from '../core/config/settings';
import { nodeTextFiles } from '../core/speed/textFiles';
import { createSettingsSource } from './settingsSource';
import { SPEED_VIEW_ID, SpeedPanelProvider } from './speedPanel';
import { SpeedStatusBar } from './statusBar';

/** The speed UI's commands (package.json `contributes.commands`). */
export const SPEED_COMMANDS = {
  showModelSpeed: 'latencyCopilot.showModelSpeed',
  exportSpeedHistory: 'latencyCopilot.exportSpeedHistory',
  resetSpeedHistory: 'latencyCopilot.resetSpeedHistory',
  probeBackends: 'latencyCopilot.probeBackends',
} as const;

/** The setting for the status bar's warning colour, in tokens/s. */
const SLOW_THRESHOLD_SETTING = 'statusBar.slowThresholdTokensPerSec' as const;

/** The inline feature's toggle, which decides the status bar's "Completions off" state. */
const INLINE_ENABLED_SETTING = 'inline.enabled';

/** The history file's name inside the extension's global storage folder. */
export const SPEED_HISTORY_FILE = 'speed-history.jsonl';

/** What the speed UI needs from the rest of the extension. */
export interface SpeedUiDeps {
  readonly context: vscode.ExtensionContext;
  readonly log: Logger;
  readonly clock: Clock;
  /** Every configured endpoint, burst first, then long-context. */
  readonly endpoints: () => readonly ResolvedEndpoint[];
  /**
   * Probes one endpoint (`probeEndpoint` bound to the transport, clock and token counter). Until the composition root
   * has a transport to give, the panel's "Probe backends" button is shown disabled and says why.
   */
  readonly prober?: EndpointProber;
  /** The context window the router uses and where it came from (`ContextWindowBook.infoOf`), for the panel. */
  readonly contextWindowOf?: (endpoint: ResolvedEndpoint) => ContextWindowInfo;
  /** The router's health of an endpoint (`EndpointHealthBook.snapshot`), for the panel. */
  readonly healthOf?: (endpoint: ResolvedEndpoint) => EndpointHealthSnapshot;
  /** Whether inline completions are switched on; by default the inline feature's `latencyCopilot.inline.enabled`. */
  readonly completionsEnabled?: () => boolean;
  /** Where settings are read (clamped, trust-aware); by default a source of its own. */
  readonly settings?: SettingsSource;
  /** Whether next-edit suggestions run, where and why, for the tooltip; absent or null: no next-edit line. */
  readonly nextEditStatus?: () => NextEditStatus | null;
}

/** The speed UI as the rest of the extension sees it. */
export interface SpeedUi extends vscode.Disposable {
  /** The `StatsSink` every generation service reports to. */
  readonly hub: StatsHub;
  /** Redraws the status bar and the panel (call it when the endpoints or the completions toggle change). */
  refresh(): void;
  /** Writes buffered history to disk; await it in `deactivate()`. */
  flush(): Promise<void>;
}

/** The inline feature's on/off setting (`latencyCopilot.inline.enabled`); on unless set to false. */
function inlineCompletionsEnabled(): boolean {
  return vscode.workspace.getConfiguration('latencyCopilot').get<unknown>(INLINE_ENABLED_SETTING) !== false;
}

function isUri(value: unknown): value is vscode.Uri {
  return value instanceof vscode.Uri;
}

function isoDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10);
}

/**
 * Builds the stats hub, the history file, the status bar item, the model-speed panel and their commands, and registers
 * them on the extension context. Loading the history is asynchronous and never blocks activation.
 */
export function createSpeedUi(deps: SpeedUiDeps): SpeedUi {
  const { context, log } = deps;
  const settings = deps.settings ?? createSettingsSource((message) => log.warn(message));
  const slowThreshold = (): number => readNumberSetting(settings, SLOW_THRESHOLD_SETTING);
  const hub = new StatsHub({ clock: deps.clock, scheduler: systemScheduler, endpoints: deps.endpoints });
  let notice: string | null = null;
  const history = new SpeedHistory({
    files: nodeTextFiles,
    filePath: join(context.globalStorageUri.fsPath, SPEED_HISTORY_FILE),
    scheduler: systemScheduler,
    wallClockMs: () => Date.now(),
    onWarning: (message) => log.warn(message),
  });
  const recordSubscription = hub.onDidRecord((record) => history.append(record));
  void history.load().then((result) => {
    hub.load(result.records);
    log.info(`Speed history: ${result.records.length} request(s) loaded.`);
    if (result.warning !== null) {
      notice = result.warning;
      void vscode.window.showWarningMessage(result.warning);
    }
  });

  let panel: SpeedPanelProvider | null = null;
  const probeBoard = new ProbeBoard(
    () => Date.now(),
    () => panel?.postSnapshot(),
    deps.prober !== undefined,
  );

  /**
   * Export Speed History: the format pick (unless given) and always the save dialog; a location passed by a caller only
   * pre-fills it (`runExportCommand`), so no extension or command link can write a file without the person choosing it.
   */
  function exportHistory(format: unknown, suggestedLocation?: unknown): Promise<void> {
    return runExportCommand(format, suggestedLocation, isUri, {
      pickFormat: async () =>
        (
          await vscode.window.showQuickPick(
            [
              { label: 'JSON', description: 'every field, one document', format: 'json' as const },
              { label: 'CSV', description: 'one row per request, for spreadsheets', format: 'csv' as const },
            ],
            { title: 'Export Speed History', placeHolder: 'Format' },
          )
        )?.format,
      askSaveLocation: async (chosen, suggested) =>
        await vscode.window.showSaveDialog({
          title: 'Export Speed History',
          saveLabel: 'Export',
          defaultUri:
            suggested ??
            vscode.Uri.joinPath(
              vscode.workspace.workspaceFolders?.[0]?.uri ?? vscode.Uri.file(context.globalStorageUri.fsPath),
              `latency-copilot-speed-${isoDate(Date.now())}.${chosen}`,
            ),
          filters: chosen === 'json' ? { JSON: ['json'] } : { CSV: ['csv'] },
        }),
      write: async (uri, chosen) => {
        const records = hub.records();
        const text = chosen === 'json' ? historyToJson(records, Date.now()) : historyToCsv(records);
        await vscode.workspace.fs.writeFile(uri, new TextEncoder().encode(text));
        log.info(`Speed history: exported ${records.length} request(s) as ${chosen.toUpperCase()}.`);
        void vscode.window.showInformationMessage(
          `Exported ${records.length.toLocaleString('en-US')} requests to ${uri.fsPath}.`,
        );
      },
      showError: (message) => {
        log.warn(message);
        void vscode.window.showErrorMessage(message);
      },
    }).then(() => undefined);
  }

  async function resetHistory(): Promise<void> {
    const answer = await vscode.window.showWarningMessage(
      `Reset the speed history? This forgets ${hub.size().toLocaleString('en-US')} recorded requests.`,
      { modal: true },
      'Reset',
    );
    if (answer !== 'Reset') return;
    hub.reset();
    notice = null;
    await history.reset();
    log.info('Speed history: reset.');
  }

  /** Probes every configured endpoint, one after another; progress and results show in the panel. */
  function runProbe(): Promise<void> {
    if (deps.prober === undefined) return Promise.resolve();
    const targets = deps.endpoints();
    log.info(`Probe: ${targets.length} backend(s).`);
    return probeBoard.run(targets, deps.prober).then(() => {
      for (const row of probeBoard.state().rows) {
        log.info(`Probe ${row.label}: ${row.status}${row.errorReason === null ? '' : ` (${row.errorReason})`}`);
      }
    });
  }

  panel = new SpeedPanelProvider({
    extensionUri: context.extensionUri,
    hub,
    probeBoard,
    log,
    slowThresholdTokensPerSec: slowThreshold,
    notice: () => notice,
    details: () => backendDetails(deps.endpoints(), deps, Date.now()),
    runProbe: () => {
      void runProbe();
    },
    exportHistory: (format) => exportHistory(format),
    resetHistory,
  });

  const statusBar = new SpeedStatusBar({
    hub,
    clock: deps.clock,
    completionsEnabled: deps.completionsEnabled ?? inlineCompletionsEnabled,
    nextEditStatus: deps.nextEditStatus,
    slowThresholdTokensPerSec: slowThreshold,
    command: SPEED_COMMANDS.showModelSpeed,
  });

  const registrations: vscode.Disposable[] = [
    vscode.window.registerWebviewViewProvider(SPEED_VIEW_ID, panel),
    vscode.commands.registerCommand(SPEED_COMMANDS.showModelSpeed, () =>
      vscode.commands.executeCommand(`${SPEED_VIEW_ID}.focus`),
    ),
    vscode.commands.registerCommand(
      SPEED_COMMANDS.exportSpeedHistory,
      (format?: unknown, suggestedLocation?: unknown) => exportHistory(format, suggestedLocation),
    ),
    vscode.commands.registerCommand(SPEED_COMMANDS.resetSpeedHistory, resetHistory),
    vscode.commands.registerCommand(SPEED_COMMANDS.probeBackends, async () => {
      await vscode.commands.executeCommand(`${SPEED_VIEW_ID}.focus`);
      await runProbe();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      // The completions toggle (`inline.enabled`, owned by the inline feature) decides the "off" state; the next-edit
      // settings change the tooltip's next-edit line.
      if (
        event.affectsConfiguration(`latencyCopilot.${SLOW_THRESHOLD_SETTING}`) ||
        event.affectsConfiguration(`latencyCopilot.${INLINE_ENABLED_SETTING}`) ||
        event.affectsConfiguration('latencyCopilot.nextEdit')
      ) {
        statusBar.render();
        panel?.postSnapshot();
      }
    }),
  ];

  if (readBooleanSetting(settings, 'speedPanel.showOnStartup')) {
    // `preserveFocus` opens the panel but leaves the keyboard where it is (the editor, for the demo), so the person can
    // type at once; a VS Code that ignores the option focuses the panel instead, which is still the panel shown.
    void vscode.commands
      .executeCommand(`${SPEED_VIEW_ID}.focus`, { preserveFocus: true })
      .then(undefined, (error: unknown) => {
        log.warn(
          `Could not show the Model Speed panel on startup: ${error instanceof Error ? error.message : String(error)}`,
        );
      });
  }

  return {
    hub,
    refresh: () => {
      probeBoard.keepOnly(deps.endpoints());
      hub.endpointsChanged();
      statusBar.render();
    },
    flush: () => history.flush(),
    dispose: () => {
      for (const registration of registrations) registration.dispose();
      probeBoard.cancel();
      statusBar.dispose();
      panel?.dispose();
      recordSubscription.dispose();
      void history.dispose();
      hub.dispose();
    },
  };
}
