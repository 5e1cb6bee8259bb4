import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import type { GenerationService, StatsSink } from '../core/generation/generationService';
import type { Logger } from '../core/logger';
import type { TokenCounter } from '../core/stream/meter';
import type { BudgetLimits } from '../core/cost/dailyBudget';
import { readBooleanSetting } from '../core/config/settings';
import type { SettingsSource } from '../core/config/settings';
import type { SuggestionSample } from '../core/speed/statsHub';
import type { SnippetCandidate } from '../core/inline/contextSnippets';
import { FimPathProbe } from '../core/inline/fimPathProbe';
import type { FimPathMemory, FimPathState } from '../core/inline/fimPathProbe';
import { InlineEngine } from '../core/inline/inlineEngine';
import type { InlineDocumentState } from '../core/inline/inlineEngine';
import { gateVerdict, languageEnabled, readInlineOptions } from '../core/inline/inlineSettings';
import type { EditorFileGate } from './editorFileGate';

/** The toggle command (package.json `contributes.commands`). */
export const TOGGLE_INLINE_COMMAND = 'latencyCopilot.toggleInlineCompletions';

/**
 * Run by VS Code after it inserts one of our suggestions (`InlineCompletionItem.command`), to count it as accepted.
 * Internal: not in the command palette (package.json does not declare it).
 */
export const INLINE_ACCEPTED_COMMAND = 'latencyCopilot.inline.accepted';

/** Where the learned FIM paths are kept between sessions (globalState key). */
const FIM_MEMORY_KEY = 'latencyCopilot.inline.fimPaths';

/** Lines before the cursor the snapshot starts from, rounded to a block so the start stays put while typing. */
const PREFIX_LINE_BLOCK = 500;
/** Lines after the cursor the snapshot covers (the engine cuts both to token windows). */
const SUFFIX_LINES = 400;
/** Lines of another editor, around what is visible or was edited, offered as a context snippet. */
const SNIPPET_LINES = 30;
/** Recent edit locations remembered for snippets. */
const RECENT_EDITS = 8;

/** What the inline feature needs from the rest of the extension. */
export interface InlineCompletionsDeps {
  readonly service: GenerationService;
  readonly clock: Clock;
  readonly countTokens: TokenCounter;
  readonly settings: SettingsSource;
  readonly log: Logger;
  readonly globalState: vscode.Memento;
  /** The stats hub: suggestions served from the cache are recorded there too. */
  readonly sink: StatsSink;
  /** Called when completions are switched on or off (the status bar redraws). */
  readonly onDidToggle?: () => void;
  /** True when a burst endpoint can serve inline completions (its `fim` is not `none`); no request is made otherwise. */
  readonly hasInlineBackend?: () => boolean;
  /**
   * Opens connections to the burst endpoints ahead of need (e.g. `transport.warm` of each endpoint's warm URL). Called
   * when an editor gets focus and on the first keystroke after an idle period, never on the path of a suggestion.
   */
  readonly warm?: () => void;
  /** True when an endpoint's rate-limit headroom is low: the request for the state after a suggestion is skipped. */
  readonly rateLimitLow?: (endpointId: string) => boolean;
  /** What the daily budget allows inline completions now (read on every call). */
  readonly budget?: () => BudgetLimits;
  /** Told of every suggestion handed to VS Code (never a cancelled or empty call): keystroke-to-suggestion figures. */
  readonly onSuggestionShown?: (sample: SuggestionSample) => void;
  /** Told when the person accepts a suggestion (the cost per accepted suggestion). */
  readonly onSuggestionAccepted?: (endpointId: string, endpointLabel: string) => void;
  /** The file gate, shared with next-edit suggestions: what may reach a model. */
  readonly fileGate: EditorFileGate;
  /**
   * A predicted next edit that inserts text at this offset of the document (keyed by its URI), or null: shown as ghost
   * text before any request, since a published extension can draw an edit at the cursor only this way.
   */
  readonly nextEditInsertion?: (documentKey: string, offset: number) => string | null;
}

/** After this long without a provider call (ms), connections may have closed: the next keystroke warms them again. */
const IDLE_REWARM_MS = 45_000;

/** The same failure is logged at most once per this many ms (a backend that is down fails on every keystroke). */
const REPEAT_LOG_MS = 30_000;

/** The inline feature as the composition root sees it. */
export interface InlineCompletions extends vscode.Disposable {
  /** Whether inline completions are on (for the status bar). */
  isEnabled(): boolean;
}

function isFimPathMemory(value: unknown): value is FimPathMemory {
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).every((state: unknown) => isFimPathState(state));
}

function isFimPathState(value: unknown): value is FimPathState {
  if (typeof value !== 'object' || value === null || !('confirmed' in value) || !('rejected' in value)) return false;
  return (value.confirmed === null || typeof value.confirmed === 'string') && Array.isArray(value.rejected);
}

/** Whether inline completions are switched on (setting `latencyCopilot.inline.enabled`). */
function inlineEnabled(settings: SettingsSource): boolean {
  return readBooleanSetting(settings, 'inline.enabled');
}

/** Resolves after `ms`, or at once when `signal` aborts (the engine's wait before a speculative request). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** A warning logger that drops a line repeated within `REPEAT_LOG_MS` (a backend that is down fails every keystroke). */
function repeatDroppingWarner(log: Logger, clock: Clock): (line: string) => void {
  let lastLine = '';
  let lastAtMs = Number.NEGATIVE_INFINITY;
  return (line) => {
    const now = clock.now();
    if (line === lastLine && now - lastAtMs < REPEAT_LOG_MS) return;
    lastLine = line;
    lastAtMs = now;
    log.warn(line);
  };
}

/**
 * The inline completion provider: on each keystroke it checks the gate (setting, language, file, trust) without
 * waiting, snapshots the text around the cursor and asks the engine, turning VS Code's cancellation into an abort.
 * It also remembers where files were edited, for context snippets from other files.
 */
class InlineCompletionProvider implements vscode.InlineCompletionItemProvider {
  /** Recent edit locations, newest first, at most `RECENT_EDITS`. */
  private readonly recentEdits: { uri: vscode.Uri; line: number }[] = [];
  private lastCallMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly engine: InlineEngine,
    private readonly fileGate: EditorFileGate,
    private readonly deps: InlineCompletionsDeps,
  ) {}

  async provideInlineCompletionItems(
    document: vscode.TextDocument,
    position: vscode.Position,
    _context: vscode.InlineCompletionContext,
    token: vscode.CancellationToken,
  ): Promise<vscode.InlineCompletionItem[]> {
    const { deps, fileGate } = this;
    // A field comparison in the next-edit session: the keystroke path pays nothing when no prediction is shown.
    const insertion = deps.nextEditInsertion?.(document.uri.toString(), document.offsetAt(position)) ?? null;
    if (insertion !== null) return [new vscode.InlineCompletionItem(insertion, new vscode.Range(position, position))];
    this.warmAfterIdle();
    // Never waits: a document whose folder's ignore files are still being read is refused this time (`rules-loading`).
    const file = fileGate.entryFor(document.uri);
    const verdict = gateVerdict({
      enabled: inlineEnabled(deps.settings),
      languageEnabled: languageEnabled(deps.settings, document.languageId),
      file: file.verdict,
      workspaceTrusted: vscode.workspace.isTrusted,
      allowUntrusted: readBooleanSetting(deps.settings, 'inline.allowInUntrustedWorkspaces'),
    });
    if (verdict === 'rules-loading') fileGate.askAgainWhenLoaded(document.uri);
    if (verdict !== null || token.isCancellationRequested || deps.hasInlineBackend?.() === false) return [];
    const startLine = Math.max(0, position.line - (position.line % PREFIX_LINE_BLOCK) - PREFIX_LINE_BLOCK);
    const endLine = Math.min(document.lineCount, position.line + SUFFIX_LINES);
    const state: InlineDocumentState = {
      documentId: `${document.uri.toString()}#${startLine}`,
      languageId: document.languageId,
      path: file.document.relativePath,
      repoName: file.document.folderName,
      prefix: document.getText(new vscode.Range(startLine, 0, position.line, position.character)),
      suffix: document.getText(new vscode.Range(position, new vscode.Position(endLine, 0))),
      tabSize: tabSizeOf(document),
      snippets: () => this.snippetsFor(document),
    };
    const controller = new AbortController();
    const cancellation = token.onCancellationRequested(() => controller.abort());
    try {
      const suggestion = await this.engine.provide(state, controller.signal);
      if (suggestion === null || token.isCancellationRequested) return [];
      const item = new vscode.InlineCompletionItem(suggestion.text, new vscode.Range(position, position));
      // VS Code runs this after inserting the suggestion: the only stable way to learn it was accepted.
      if (suggestion.endpointId !== null && suggestion.endpointLabel !== null)
        item.command = {
          command: INLINE_ACCEPTED_COMMAND,
          title: 'Suggestion accepted',
          arguments: [suggestion.endpointId, suggestion.endpointLabel],
        };
      const items = [item];
      const { endpointId, endpointLabel, latencyMs, source, streamId } = suggestion;
      deps.onSuggestionShown?.({ endpointId, endpointLabel, latencyMs, source, streamId });
      return items;
    } finally {
      cancellation.dispose();
    }
  }

  /** Remembers where a file on disk was last edited (one entry per file, newest first), for context snippets. */
  noteEdit(event: vscode.TextDocumentChangeEvent): void {
    const recentEdits = this.recentEdits;
    const change = event.contentChanges[0];
    if (change === undefined || event.document.uri.scheme !== 'file') return;
    const existing = recentEdits.findIndex((edit) => edit.uri.toString() === event.document.uri.toString());
    if (existing !== -1) recentEdits.splice(existing, 1);
    recentEdits.unshift({ uri: event.document.uri, line: change.range.start.line });
    recentEdits.length = Math.min(recentEdits.length, RECENT_EDITS);
  }

  /** After an idle period connections may have closed: warm them again, after this call (never on its path). */
  private warmAfterIdle(): void {
    const now = this.deps.clock.now();
    if (now - this.lastCallMs > IDLE_REWARM_MS) setTimeout(() => this.deps.warm?.(), 0);
    this.lastCallMs = now;
  }

  /** Context snippets: text around recent edits and what other editors show, only from files the gate allows. */
  private snippetsFor(document: vscode.TextDocument): readonly SnippetCandidate[] {
    const candidates: SnippetCandidate[] = [];
    // Another file is offered only when it passes the same gate as the file being edited (on disk in a workspace folder,
    // never a secret file, never an ignored one; not while its folder's ignore files are being read).
    const allowed = (other: vscode.TextDocument) =>
      other.uri.toString() !== document.uri.toString() && this.fileGate.entryFor(other.uri).verdict === 'allowed';
    const around = (other: vscode.TextDocument, line: number, origin: SnippetCandidate['origin']) => {
      const start = Math.max(0, line - SNIPPET_LINES / 2);
      const end = Math.min(other.lineCount, start + SNIPPET_LINES);
      candidates.push({
        path: vscode.workspace.asRelativePath(other.uri),
        text: other.getText(new vscode.Range(start, 0, end, 0)),
        origin,
      });
    };
    for (const edit of this.recentEdits) {
      const other = vscode.workspace.textDocuments.find(
        (candidate) => candidate.uri.toString() === edit.uri.toString(),
      );
      if (other !== undefined && allowed(other)) around(other, edit.line, 'recent-edit');
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (allowed(editor.document)) around(editor.document, editor.visibleRanges[0]?.start.line ?? 0, 'open-editor');
    }
    return candidates;
  }
}

/** Registers the inline completion provider for every language, the toggle command, and the edit tracking for snippets. */
export function createInlineCompletions(deps: InlineCompletionsDeps): InlineCompletions {
  const { log, settings } = deps;
  const stored: unknown = deps.globalState.get(FIM_MEMORY_KEY);
  const probe = new FimPathProbe(
    (line) => {
      log.info(line);
      void deps.globalState.update(FIM_MEMORY_KEY, probe.memory());
    },
    isFimPathMemory(stored) ? stored : {},
  );
  const engine = new InlineEngine({
    rateLimitLow: deps.rateLimitLow,
    ...(deps.budget === undefined ? {} : { budget: deps.budget }),
    service: deps.service,
    clock: deps.clock,
    countTokens: deps.countTokens,
    probe,
    options: () => readInlineOptions(settings),
    sleep: abortableSleep,
    onCacheServed: (record) => deps.sink.cacheServed(record),
    log: repeatDroppingWarner(log, deps.clock),
  });
  const fileGate = deps.fileGate;
  const provider = new InlineCompletionProvider(engine, fileGate, deps);
  const isEnabled = () => inlineEnabled(settings);

  const disposables: vscode.Disposable[] = [
    // Files on disk only (untitled buffers, user settings and other virtual documents never reach the provider); the
    // file gate then keeps to workspace folders and their ignore and secret rules.
    vscode.languages.registerInlineCompletionItemProvider({ scheme: 'file' }, provider),
    // Any extension can run a command: only two strings are taken, and they only add to a count.
    vscode.commands.registerCommand(INLINE_ACCEPTED_COMMAND, (endpointId: unknown, endpointLabel: unknown) => {
      if (typeof endpointId === 'string' && typeof endpointLabel === 'string')
        deps.onSuggestionAccepted?.(endpointId, endpointLabel);
    }),
    vscode.commands.registerCommand(TOGGLE_INLINE_COMMAND, async () => {
      const next = !isEnabled();
      await vscode.workspace
        .getConfiguration('latencyCopilot')
        .update('inline.enabled', next, vscode.ConfigurationTarget.Global);
      if (!next) engine.cancelAll();
      log.info(`Inline completions ${next ? 'on' : 'off'}.`);
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor === undefined || !isEnabled()) return;
      setTimeout(() => deps.warm?.(), 0);
      // Start reading the folder's ignore files now, so they are known by the first keystroke.
      fileGate.entryFor(editor.document.uri);
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('latencyCopilot.inline.enabled')) deps.onDidToggle?.();
    }),
    vscode.workspace.onDidChangeTextDocument((event) => provider.noteEdit(event)),
  ];
  // The folder of the editor open at start: its ignore files are read just after activation, before the first keystroke.
  setTimeout(() => {
    const editor = vscode.window.activeTextEditor;
    if (editor !== undefined && isEnabled()) fileGate.entryFor(editor.document.uri);
  }, 0);

  return {
    isEnabled,
    dispose: () => {
      engine.cancelAll();
      for (const disposable of disposables) disposable.dispose();
    },
  };
}

/** The editor's tab size for a document (the active editor's option when it shows it), else 4. */
function tabSizeOf(document: vscode.TextDocument): number {
  const editor = vscode.window.visibleTextEditors.find((candidate) => candidate.document === document);
  const size = editor?.options.tabSize;
  return typeof size === 'number' ? size : 4;
}
