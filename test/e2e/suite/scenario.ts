// What a scenario is, and what it gets to work with. Scenarios live in test/e2e/scenarios/*.ts and are listed in
// test/e2e/scenarios/all.ts. They run one after another inside VS Code's extension host, with the extension loaded.
import type * as vscode from 'vscode';
import type { SessionKind, UiElement } from '../bridgeProtocol';

/** One end-to-end scenario. */
export interface Scenario {
  /** Unique, readable name; printed as `ok <name>` / `not ok <name>: <why>`. */
  readonly name: string;
  /** The VS Code session it needs; `default` (a trusted workspace) unless said otherwise. */
  readonly session?: SessionKind;
  /** Upper bound for the scenario, in ms (default 60 000). A scenario over it fails with "timed out". */
  readonly timeoutMs?: number;
  /** Throws (e.g. with node:assert) to fail. */
  run(ctx: ScenarioContext): Promise<void>;
}

/** The answer of a UI helper: what the browser shows, or why it cannot be seen (no browser under test-electron). */
export type UiAnswer<T> =
  { readonly available: true; readonly value: T } | { readonly available: false; readonly reason: string };

/** What the status bar shows for one item. */
export interface StatusBarItemView {
  /** The visible text (codicons appear as their label text, e.g. "$(zap)" renders as an icon with no text). */
  readonly text: string;
  /** The accessible label (the item's tooltip-free full text). */
  readonly ariaLabel: string | null;
  readonly visible: boolean;
}

/** Options for `waitFor`. */
export interface WaitOptions {
  /** Give up after this many ms (default 10 000). */
  readonly timeoutMs?: number;
  /** Poll every this many ms (default 50). */
  readonly intervalMs?: number;
}

/** Helpers every scenario gets. Everything a scenario changes through these is undone after it. */
export interface ScenarioContext {
  /** The scenario's name. */
  readonly name: string;
  /** Absolute path of the workspace folder VS Code has open (a temporary folder of this run). */
  readonly workspaceFolder: string;
  /** Absolute path of `e2e-artifacts/`. */
  readonly artifactsDir: string;
  /** Which runner is driving: `code-server` (a browser, UI helpers work) or `electron` (UI helpers unavailable). */
  readonly runner: string;
  /** Aborted when the scenario ends (passed, failed or timed out): pass it to work that should stop then. */
  readonly signal: AbortSignal;
  /** The extension under test (not necessarily activated yet). */
  readonly extension: vscode.Extension<unknown>;

  /** Activates the extension if needed and returns what `activate()` returned. */
  activateExtension(): Promise<unknown>;
  /** Writes `content` to `relativePath` in the workspace folder (creating folders) and opens it in an editor. */
  openFile(relativePath: string, content: string): Promise<vscode.TextEditor>;
  /** Types `text` into the active editor one character at a time through VS Code's `type` command (as keystrokes do). */
  type(text: string, options?: { readonly delayMs?: number }): Promise<void>;
  /** Saves the active editor and returns the file's content as read from disk. */
  saveAndRead(): Promise<string>;
  /** Polls `probe` until it returns a value other than `undefined`/`false`, and returns that value; throws on timeout. */
  waitFor<T>(
    description: string,
    probe: () => T | undefined | false | Promise<T | undefined | false>,
    options?: WaitOptions,
  ): Promise<T>;
  /** Sets settings (keys like `latencyCopilot.x`) in user settings, or workspace settings; restored after the scenario. */
  updateSettings(values: Readonly<Record<string, unknown>>, target?: 'user' | 'workspace'): Promise<void>;
  /** The extension's log file (its LogOutputChannel), once it exists. */
  logFile(): Promise<string | undefined>;
  /** The extension's log so far (empty string when the file does not exist yet). */
  readLog(): Promise<string>;
  /** Waits until the extension's log matches `pattern`, and returns the match. */
  waitForLog(pattern: RegExp, options?: WaitOptions): Promise<RegExpMatchArray>;
  /** Prints a line to the run's output (prefixed with `# `, as a note that is not a result). */
  note(message: string): void;
  /** Registers work to run after the scenario (last registered runs first), pass or fail. */
  onCleanup(cleanup: () => unknown): void;
  /** Ends the scenario as skipped (counted in `N skipped`), e.g. when a UI check is unavailable under this runner. */
  skip(reason: string): never;

  /** Saves a PNG of the whole workbench to `e2e-artifacts/<name>.png` and returns its path. */
  screenshot(name: string): Promise<UiAnswer<string>>;
  /** Elements matching a CSS selector in the workbench (and, with `inWebviews`, in webview frames too). */
  uiQuery(selector: string, options?: { readonly inWebviews?: boolean }): Promise<UiAnswer<readonly UiElement[]>>;
  /** The status bar item with the id VS Code gives it: `<publisher>.<name>.<item id>` (see `statusBarItemId`). */
  statusBarItem(itemId: string): Promise<UiAnswer<StatusBarItemView | undefined>>;
  /** Whether inline-completion ghost text is on screen, and its text. */
  ghostText(): Promise<UiAnswer<{ readonly visible: boolean; readonly text: string }>>;
  /** Presses a key in the browser as a person would (Playwright key names: `Tab`, `Escape`, `Control+S`). */
  uiPress(key: string): Promise<UiAnswer<true>>;
  /** Types text with the browser's keyboard into whatever has focus (real key events, `delayMs` between keys). */
  uiTypeKeys(text: string, options?: { readonly delayMs?: number }): Promise<UiAnswer<true>>;
  /** Clicks the first visible element matching a CSS selector in the workbench. */
  uiClick(selector: string): Promise<UiAnswer<true>>;
}

/** Thrown by `ctx.skip()`; the suite reports the scenario as skipped rather than failed. */
export class ScenarioSkipped extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ScenarioSkipped';
  }
}

/** The DOM id VS Code gives a status bar item the extension creates with `createStatusBarItem(itemId, ...)`. */
export function statusBarItemId(extensionId: string, itemId: string): string {
  return `${extensionId}.${itemId}`;
}
