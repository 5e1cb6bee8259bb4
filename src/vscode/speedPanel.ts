import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Logger } from '../core/logger';
import { panelHtml } from '../core/speed/panelHtml';
import { PANEL_PROTOCOL_VERSION, parseWebviewMessage } from '../core/speed/panelProtocol';
import type {
  BackendDetails,
  ExportFormat,
  HostToWebviewMessage,
  PanelSnapshot,
  WebviewToHostMessage,
} from '../core/speed/panelProtocol';
import type { ProbeBoard } from '../core/speed/probeBoard';
import type { StatsHub } from '../core/speed/statsHub';

/** The webview view's id (package.json `contributes.views`); VS Code adds the command `<id>.focus`. */
export const SPEED_VIEW_ID = 'latencyCopilot.speedView';

/** What the panel needs. */
export interface SpeedPanelDeps {
  readonly extensionUri: vscode.Uri;
  readonly hub: StatsHub;
  readonly probeBoard: ProbeBoard;
  readonly log: Logger;
  readonly slowThresholdTokensPerSec: () => number;
  /** Context window and router health of every configured backend. */
  readonly details: () => readonly BackendDetails[];
  /** A one-line notice for the top of the panel (e.g. the history file was set aside), or null. */
  readonly notice: () => string | null;
  /** Runs the probe over every configured endpoint (the probe board reports progress). */
  readonly runProbe: () => void;
  readonly exportHistory: (format: ExportFormat) => Promise<void>;
  readonly resetHistory: () => Promise<void>;
}

/**
 * The model-speed panel: a webview view with a strict CSP (nonce, no inline code, no remote resources), resources only
 * from `media/`, a ready handshake, and whole snapshots (never deltas: a hidden webview keeps only the newest message).
 * Every message from the webview is parsed by `parseWebviewMessage` before anything acts on it.
 */
export class SpeedPanelProvider implements vscode.WebviewViewProvider, vscode.Disposable {
  private view: vscode.WebviewView | null = null;
  private ready = false;
  private lastSent = '';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly viewDisposables: vscode.Disposable[] = [];

  constructor(private readonly deps: SpeedPanelDeps) {
    const subscription = deps.hub.onDidChange(() => this.postSnapshot());
    this.disposables.push({ dispose: () => subscription.dispose() });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.disposeView();
    this.view = view;
    this.ready = false;
    this.lastSent = '';
    const mediaRoot = vscode.Uri.joinPath(this.deps.extensionUri, 'media');
    view.webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [mediaRoot] };
    view.webview.html = panelHtml({
      cspSource: view.webview.cspSource,
      nonce: randomBytes(16).toString('base64'),
      scriptUri: view.webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'dist', 'panel.js')).toString(),
      styleUri: view.webview.asWebviewUri(vscode.Uri.joinPath(mediaRoot, 'panel.css')).toString(),
    });
    this.viewDisposables.push(
      view.webview.onDidReceiveMessage((raw: unknown) => this.onMessage(raw)),
      view.onDidChangeVisibility(() => {
        // A view that was hidden may have missed snapshots: send the newest one when it shows again.
        if (view.visible) {
          this.lastSent = '';
          this.postSnapshot();
        }
      }),
      view.onDidDispose(() => {
        if (this.view === view) {
          this.view = null;
          this.ready = false;
        }
        this.disposeView();
      }),
    );
  }

  /** The snapshot the panel would draw now. */
  snapshot(): PanelSnapshot {
    return {
      protocolVersion: PANEL_PROTOCOL_VERSION,
      ...this.deps.hub.snapshot(),
      details: this.deps.details(),
      probe: this.deps.probeBoard.state(),
      notice: this.deps.notice(),
      slowThresholdTokensPerSec: this.deps.slowThresholdTokensPerSec(),
    };
  }

  /** Sends a fresh snapshot when the view is ready, visible, and something changed. */
  postSnapshot(): void {
    const view = this.view;
    if (view === null || !this.ready || !view.visible) return;
    const message: HostToWebviewMessage = { type: 'snapshot', snapshot: this.snapshot() };
    const serialised = JSON.stringify(message);
    if (serialised === this.lastSent) return;
    this.lastSent = serialised;
    void view.webview.postMessage(message);
  }

  dispose(): void {
    this.disposeView();
    for (const disposable of this.disposables.splice(0)) disposable.dispose();
  }

  private onMessage(raw: unknown): void {
    const message: WebviewToHostMessage | null = parseWebviewMessage(raw);
    if (message === null) {
      this.deps.log.warn('Speed panel: ignored a message that is not part of the panel protocol.');
      return;
    }
    switch (message.type) {
      case 'ready':
        this.ready = true;
        this.lastSent = '';
        this.postSnapshot();
        return;
      case 'runProbe':
        this.deps.runProbe();
        return;
      case 'export':
        void this.deps.exportHistory(message.format);
        return;
      case 'reset':
        void this.deps.resetHistory();
        return;
    }
  }

  private disposeView(): void {
    for (const disposable of this.viewDisposables.splice(0)) disposable.dispose();
  }
}
