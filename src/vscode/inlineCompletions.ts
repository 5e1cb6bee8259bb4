import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import type { GenerationService, StatsSink } from '../core/generationService';
import { newRequestId } from '../core/basicGenerationService';
import type { Logger } from '../core/logger';
import type { TokenCounter } from '../core/meter';
import { readBooleanSetting } from '../core/settings';
import type { SettingsSource } from '../core/settings';
import type { SuggestionSample } from '../core/statsHub';
import type { SnippetCandidate } from '../core/inline/contextSnippets';
import { FimPathProbe } from '../core/inline/fimPathProbe';
import type { FimPathMemory, FimPathState } from '../core/inline/fimPathProbe';
import { InlineEngine } from '../core/inline/inlineEngine';
import type { InlineDocumentState } from '../core/inline/inlineEngine';
import { compileInlineIgnore, gateVerdict, INLINE_IGNORE_FILE, languageEnabled, readInlineOptions } from '../core/inline/inlineSettings';
import type { IgnorePattern } from '../core/repo/ignoreRules';

/** The toggle command (package.json `contributes.commands`). */
export const TOGGLE_INLINE_COMMAND = 'latencyCopilot.toggleInlineCompletions';

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
  /** Told of every suggestion handed to VS Code (never a cancelled or empty call): keystroke-to-suggestion figures. */
  readonly onSuggestionShown?: (sample: SuggestionSample) => void;
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

/** Reads the ignore file of each workspace folder once, and again when it changes. */
class IgnoreFiles implements vscode.Disposable {
  private readonly patterns = new Map<string, Promise<IgnorePattern[]>>();
  private readonly loaded = new Map<string, IgnorePattern[]>();
  private readonly watcher = vscode.workspace.createFileSystemWatcher(`**/${INLINE_IGNORE_FILE}`);

  constructor() {
    const forget = () => {
      this.patterns.clear();
      this.loaded.clear();
    };
    this.watcher.onDidChange(forget);
    this.watcher.onDidCreate(forget);
    this.watcher.onDidDelete(forget);
  }

  patternsFor(folder: vscode.WorkspaceFolder): Promise<IgnorePattern[]> {
    const key = folder.uri.toString();
    let loaded = this.patterns.get(key);
    if (loaded === undefined) {
      loaded = Promise.resolve(vscode.workspace.fs.readFile(vscode.Uri.joinPath(folder.uri, INLINE_IGNORE_FILE))).then(
        (bytes) => compileInlineIgnore(new TextDecoder().decode(bytes)),
        () => [],
      ).then((patterns) => {
        this.loaded.set(key, patterns);
        return patterns;
      });
      this.patterns.set(key, loaded);
    }
    return loaded;
  }

  /** The folder's patterns if already read, else null (and reading starts): callers treat null as "not allowed yet". */
  loadedFor(folder: vscode.WorkspaceFolder): IgnorePattern[] | null {
    const patterns = this.loaded.get(folder.uri.toString());
    if (patterns === undefined) void this.patternsFor(folder);
    return patterns ?? null;
  }

  dispose(): void {
    this.watcher.dispose();
  }
}

/** Registers the inline completion provider for every language, the toggle command, and the edit tracking for snippets. */
export function createInlineCompletions(deps: InlineCompletionsDeps): InlineCompletions {
  const { log, settings } = deps;
  const stored: unknown = deps.globalState.get(FIM_MEMORY_KEY);
  const lastFailure = { line: '', atMs: Number.NEGATIVE_INFINITY };
  const probe = new FimPathProbe(
    (line) => {
      log.info(line);
      void deps.globalState.update(FIM_MEMORY_KEY, probe.memory());
    },
    isFimPathMemory(stored) ? stored : {},
  );
  const engine = new InlineEngine({
    rateLimitLow: deps.rateLimitLow,
    service: deps.service,
    clock: deps.clock,
    countTokens: deps.countTokens,
    probe,
    options: () => readInlineOptions(settings),
    sleep: (ms, signal) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      }),
    onCacheServed: (record) => deps.sink.requestFinished(newRequestId(), record),
    log: (line) => {
      const now = deps.clock.now();
      if (line === lastFailure.line && now - lastFailure.atMs < REPEAT_LOG_MS) return;
      lastFailure.line = line;
      lastFailure.atMs = now;
      log.warn(line);
    },
  });
  const ignoreFiles = new IgnoreFiles();
  const recentEdits: { uri: vscode.Uri; line: number }[] = [];
  const isEnabled = () => readBooleanSetting(settings, 'inline.enabled');

  const snippetsFor = (document: vscode.TextDocument): readonly SnippetCandidate[] => {
    const candidates: SnippetCandidate[] = [];
    // Another file is offered only when it is in a workspace folder whose ignore file has been read, and passes the same
    // gate as the file being edited (never a secret file, never an ignored one).
    const allowed = (other: vscode.TextDocument) => {
      if (other.uri.toString() === document.uri.toString() || other.uri.scheme !== 'file') return false;
      const folder = vscode.workspace.getWorkspaceFolder(other.uri);
      const patterns = folder === undefined ? null : ignoreFiles.loadedFor(folder);
      if (patterns === null) return false;
      const fileName = other.fileName.split(/[\\/]/).pop() ?? '';
      const relativePath = vscode.workspace.asRelativePath(other.uri, false);
      return gateVerdict({ enabled: true, languageEnabled: true, fileName, relativePath, workspaceTrusted: true, allowUntrusted: true, ignorePatterns: patterns }) === null;
    };
    const around = (other: vscode.TextDocument, line: number, origin: SnippetCandidate['origin']) => {
      const start = Math.max(0, line - SNIPPET_LINES / 2);
      const end = Math.min(other.lineCount, start + SNIPPET_LINES);
      candidates.push({ path: vscode.workspace.asRelativePath(other.uri), text: other.getText(new vscode.Range(start, 0, end, 0)), origin });
    };
    for (const edit of recentEdits) {
      const other = vscode.workspace.textDocuments.find((candidate) => candidate.uri.toString() === edit.uri.toString());
      if (other !== undefined && allowed(other)) around(other, edit.line, 'recent-edit');
    }
    for (const editor of vscode.window.visibleTextEditors) {
      if (allowed(editor.document)) around(editor.document, editor.visibleRanges[0]?.start.line ?? 0, 'open-editor');
    }
    return candidates;
  };

  let lastCallMs = Number.NEGATIVE_INFINITY;
  const warmAfterIdle = () => {
    const now = deps.clock.now();
    if (now - lastCallMs > IDLE_REWARM_MS) setTimeout(() => deps.warm?.(), 0);
    lastCallMs = now;
  };

  const provider: vscode.InlineCompletionItemProvider = {
    async provideInlineCompletionItems(document, position, _context, token) {
      warmAfterIdle();
      const folder = vscode.workspace.getWorkspaceFolder(document.uri);
      const relativePath = folder === undefined ? null : vscode.workspace.asRelativePath(document.uri, false);
      const verdict = gateVerdict({
        enabled: isEnabled(),
        languageEnabled: languageEnabled(settings, document.languageId),
        fileName: document.fileName.split(/[\\/]/).pop() ?? '',
        relativePath,
        workspaceTrusted: vscode.workspace.isTrusted,
        allowUntrusted: readBooleanSetting(settings, 'inline.allowInUntrustedWorkspaces'),
        ignorePatterns: folder === undefined ? [] : await ignoreFiles.patternsFor(folder),
      });
      if (verdict !== null || token.isCancellationRequested || deps.hasInlineBackend?.() === false) return [];
      const startLine = Math.max(0, position.line - (position.line % PREFIX_LINE_BLOCK) - PREFIX_LINE_BLOCK);
      const endLine = Math.min(document.lineCount, position.line + SUFFIX_LINES);
      const state: InlineDocumentState = {
        documentId: `${document.uri.toString()}#${startLine}`,
        languageId: document.languageId,
        path: relativePath ?? document.fileName,
        repoName: folder?.name ?? '',
        prefix: document.getText(new vscode.Range(startLine, 0, position.line, position.character)),
        suffix: document.getText(new vscode.Range(position, new vscode.Position(endLine, 0))),
        tabSize: tabSizeOf(document),
        snippets: () => snippetsFor(document),
      };
      const controller = new AbortController();
      const cancellation = token.onCancellationRequested(() => controller.abort());
      try {
        const suggestion = await engine.provide(state, controller.signal);
        if (suggestion === null || token.isCancellationRequested) return [];
        const items = [new vscode.InlineCompletionItem(suggestion.text, new vscode.Range(position, position))];
        const { endpointId, endpointLabel, latencyMs, source, streamId } = suggestion;
        deps.onSuggestionShown?.({ endpointId, endpointLabel, latencyMs, source, streamId });
        return items;
      } finally {
        cancellation.dispose();
      }
    },
  };

  const disposables: vscode.Disposable[] = [
    ignoreFiles,
    vscode.languages.registerInlineCompletionItemProvider({ pattern: '**' }, provider),
    vscode.commands.registerCommand(TOGGLE_INLINE_COMMAND, async () => {
      const next = !isEnabled();
      await vscode.workspace.getConfiguration('latencyCopilot').update('inline.enabled', next, vscode.ConfigurationTarget.Global);
      if (!next) engine.cancelAll();
      log.info(`Inline completions ${next ? 'on' : 'off'}.`);
    }),
    vscode.window.onDidChangeActiveTextEditor((editor) => {
      if (editor !== undefined && isEnabled()) setTimeout(() => deps.warm?.(), 0);
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration('latencyCopilot.inline.enabled')) deps.onDidToggle?.();
    }),
    vscode.workspace.onDidChangeTextDocument((event) => {
      const change = event.contentChanges[0];
      if (change === undefined || event.document.uri.scheme !== 'file') return;
      const existing = recentEdits.findIndex((edit) => edit.uri.toString() === event.document.uri.toString());
      if (existing !== -1) recentEdits.splice(existing, 1);
      recentEdits.unshift({ uri: event.document.uri, line: change.range.start.line });
      recentEdits.length = Math.min(recentEdits.length, RECENT_EDITS);
    }),
  ];

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
