import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import type { NextEditStatus } from '../core/nextEdit/nextEditTypes';
import type { StatsHub } from '../core/speed/statsHub';
import { renderStatus } from '../core/speed/statusText';
import type { StatusView } from '../core/speed/statusText';

/** The item's id; the workbench gives its element the DOM id `latency-copilot.latency-copilot.latencyCopilot.speed`. */
export const SPEED_STATUS_ITEM_ID = 'latencyCopilot.speed';

/**
 * Right-aligned items with a higher priority sit further left. VS Code's language mode item has priority 100.1 and the
 * end-of-line item 100.2, so 100.15 puts this item immediately left of the language indicator.
 */
export const SPEED_STATUS_PRIORITY = 100.15;

/** What the status bar item reads besides the hub. */
export interface SpeedStatusBarDeps {
  readonly hub: StatsHub;
  readonly clock: Clock;
  readonly completionsEnabled: () => boolean;
  /** The next-edit engine's state for the tooltip's line; absent or null: no line. */
  readonly nextEditStatus?: () => NextEditStatus | null;
  readonly slowThresholdTokensPerSec: () => number;
  /** The command a click runs (opens the model-speed panel). */
  readonly command: string;
}

/**
 * The live tokens/s item. It redraws when the hub says something changed (at most 4 times a second, every 250 ms while a
 * stream runs) and when the text would change with time alone (a rate-limit countdown, a cache hit expiring).
 */
export class SpeedStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: { dispose(): void };
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private shown: StatusView | null = null;

  constructor(private readonly deps: SpeedStatusBarDeps) {
    this.item = vscode.window.createStatusBarItem(
      SPEED_STATUS_ITEM_ID,
      vscode.StatusBarAlignment.Right,
      SPEED_STATUS_PRIORITY,
    );
    this.item.name = 'Latency Copilot Speed';
    this.item.command = deps.command;
    this.subscription = deps.hub.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  /** Redraws now (after a setting or the completions toggle changed). */
  render(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.refreshTimer = undefined;
    const facts = this.deps.hub.statusFacts();
    const nextEdit = this.deps.nextEditStatus?.() ?? null;
    const view = renderStatus(nextEdit === null ? facts : { ...facts, nextEdit }, {
      nowMs: this.deps.clock.now(),
      completionsEnabled: this.deps.completionsEnabled(),
      slowThresholdTokensPerSec: this.deps.slowThresholdTokensPerSec(),
    });
    this.apply(view);
    if (view.refreshAfterMs !== null) {
      this.refreshTimer = setTimeout(() => this.render(), Math.max(50, view.refreshAfterMs));
    }
  }

  /** What the item shows now (for tests and the log). */
  current(): StatusView | null {
    return this.shown;
  }

  dispose(): void {
    if (this.refreshTimer !== undefined) clearTimeout(this.refreshTimer);
    this.subscription.dispose();
    this.item.dispose();
  }

  private apply(view: StatusView): void {
    const previous = this.shown;
    this.shown = view;
    // Setting unchanged properties still costs a message to the workbench; skip them.
    if (previous?.text !== view.text) this.item.text = view.text;
    if (previous?.tooltipMarkdown !== view.tooltipMarkdown) {
      const tooltip = new vscode.MarkdownString(view.tooltipMarkdown, true);
      tooltip.isTrusted = false;
      this.item.tooltip = tooltip;
    }
    if (previous?.accessibilityLabel !== view.accessibilityLabel) {
      this.item.accessibilityInformation = { label: view.accessibilityLabel, role: 'button' };
    }
    if (previous?.severity !== view.severity) {
      this.item.backgroundColor =
        view.severity === 'warning'
          ? new vscode.ThemeColor('statusBarItem.warningBackground')
          : view.severity === 'error'
            ? new vscode.ThemeColor('statusBarItem.errorBackground')
            : undefined;
    }
  }
}
