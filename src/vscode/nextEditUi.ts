import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { readBooleanSetting } from '../core/config/settings';
import type { SettingsSource } from '../core/config/settings';
import { gateVerdict, languageEnabled } from '../core/inline/inlineSettings';
import type {
  NextEditDocumentSnapshot,
  NextEditListener,
  NextEditReporter,
  NextEditTrigger,
  RecentEditDiff,
  ViewedSnippet,
} from '../core/nextEdit/nextEditTypes';
import { SuggestionSession } from '../core/nextEdit/suggestionSession';
import type { DocumentTextChange, HunkView, SessionView, TabAction } from '../core/nextEdit/suggestionSession';
import type { GateEntry } from '../core/repo/fileGate';
import type { EditorFileGate } from './editorFileGate';

/** The commands (package.json `contributes.commands`; Tab and Escape are bound to accept and dismiss). */
export const NEXT_EDIT_COMMANDS = {
  toggle: 'latencyCopilot.toggleNextEdit',
  suggest: 'latencyCopilot.nextEdit.suggest',
  accept: 'latencyCopilot.nextEdit.accept',
  dismiss: 'latencyCopilot.nextEdit.dismiss',
} as const;

/** The context key the Tab and Escape keybindings wait for: true exactly while the active editor has a current hunk. */
export const NEXT_EDIT_CONTEXT_KEY = 'latencyCopilot.nextEditSuggested';

/** The status bar hint's id; its DOM id is `latency-copilot.latency-copilot.latencyCopilot.nextEdit`. */
export const NEXT_EDIT_STATUS_ITEM_ID = 'latencyCopilot.nextEdit';

/** The theme colours contributed in package.json `contributes.colors` (defaults for every theme kind there). */
const COLORS = {
  removedBackground: 'latencyCopilot.nextEdit.removedTextBackground',
  insertedBackground: 'latencyCopilot.nextEdit.insertedTextBackground',
  insertedForeground: 'latencyCopilot.nextEdit.insertedTextForeground',
  currentBorder: 'latencyCopilot.nextEdit.currentBorder',
  overviewRuler: 'latencyCopilot.nextEdit.overviewRuler',
} as const;

/** Edit history entries handed to the engine (it keeps its own `historyEdits`; this only bounds the work). */
const HISTORY_LIMIT = 30;
/** Lines of another visible editor offered to the model as a snippet. */
const SNIPPET_LINES = 30;
/** Text shown beside a change is cut here (the hover has all of it). */
const MAX_INLINE_CHARS = 80;

/** What the adapter asks of the next-edit engine (`NextEditEngine`). */
export interface NextEditPredictor {
  /** An edit (or an applied hunk, or the command): predict from `source`, read after the trigger's pause. */
  edited(source: () => NextEditDocumentSnapshot | null, trigger: NextEditTrigger): void;
  /** Stop everything in flight. */
  cancel(): void;
  subscribe(listener: NextEditListener): () => void;
  /** The person applied a hunk (the typing pause returns to its base). */
  noteApplied(): void;
  /** The person dismissed a hunk (the typing pause backs off). */
  noteDismissed(): void;
}

/** What the adapter feeds and reads of the edit history (`EditHistory`); changes as VS Code reports them. */
export interface EditHistoryFeed {
  opened(documentKey: string, path: string, text: string): void;
  closed(documentKey: string): void;
  changed(
    documentKey: string,
    changes: readonly DocumentTextChange[],
    nowMs: number,
    currentText: () => string,
  ): NextEditTrigger | null;
  diffs(maxEdits: number, nowMs?: number): readonly RecentEditDiff[];
}

/** What the next-edit adapter needs from the rest of the extension. */
export interface NextEditUiDeps {
  readonly engine: NextEditPredictor;
  readonly history: EditHistoryFeed;
  readonly fileGate: EditorFileGate;
  readonly settings: SettingsSource;
  readonly clock: Clock;
  readonly reporter: NextEditReporter;
  readonly log: Logger;
  /** The extension's folder, for the gutter icons in `media/`. */
  readonly extensionUri: vscode.Uri;
  /** Called when next edit is switched on or off (the status bar redraws). */
  readonly onDidToggle?: () => void;
}

/** The end, in the new text, of a change event's last change: where the cursor belongs after an apply. */
function endOfChanges(changes: readonly DocumentTextChange[]): number {
  let shift = 0;
  let end = 0;
  for (const change of [...changes].sort((a, b) => a.offset - b.offset)) {
    end = change.offset + shift + change.text.length;
    shift += change.text.length - change.length;
  }
  return end;
}

/** The first line of `text`, cut for drawing beside a change, with "…" when more follows. */
function inlineLabel(text: string): string {
  const lineBreak = text.search(/[\r\n]/);
  const firstLine = lineBreak === -1 ? text : text.slice(0, lineBreak);
  const more = lineBreak !== -1 && text.slice(lineBreak).trim() !== '';
  const cut = firstLine.length > MAX_INLINE_CHARS ? `${firstLine.slice(0, MAX_INLINE_CHARS)}` : firstLine;
  // Spaces at the start would collapse in the decoration; non-breaking ones keep an inserted line's indentation.
  const kept = cut.replace(/^ +/, (spaces) => '\u00a0'.repeat(spaces.length));
  return `${kept}${more || cut !== firstLine ? '…' : ''}`;
}

/**
 * Next-edit suggestions in the editor with stable APIs only: a change is drawn as decorations (the removed text struck
 * through, the new text beside it, a gutter marker on the current one), an insertion at the cursor goes out as ghost
 * text through the inline provider, and a status bar hint points at a current hunk outside the viewport. The state
 * (what is current, what Tab and Escape do) lives in `SuggestionSession`; this class converts and draws.
 */
export class NextEditUi implements vscode.Disposable {
  private readonly session: SuggestionSession;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly removedType: vscode.TextEditorDecorationType;
  private readonly insertedType: vscode.TextEditorDecorationType;
  private readonly gutterType: vscode.TextEditorDecorationType;
  private readonly hint: vscode.StatusBarItem;
  /** Documents the edit history follows (allowed by the gate when they were first seen). */
  private readonly followed = new Set<string>();
  private readonly decoratedEditors = new Set<vscode.TextEditor>();
  private contextKey = false;
  private announcedId: number | null = null;
  private ghostShown = false;
  /** Set while Tab's own edit is in flight: its change event must not start the chained prediction before the cursor moves. */
  private applying = false;

  constructor(private readonly deps: NextEditUiDeps) {
    this.session = new SuggestionSession({
      clock: deps.clock,
      reporter: deps.reporter,
      liveVersion: (key) => this.documentOf(key)?.version ?? null,
      viewport: (key) => this.viewportOf(key),
      onDidChange: () => this.render(),
    });
    const icon = (name: string) => vscode.Uri.joinPath(deps.extensionUri, 'media', name);
    this.removedType = vscode.window.createTextEditorDecorationType({
      textDecoration: 'line-through',
      backgroundColor: new vscode.ThemeColor(COLORS.removedBackground),
      overviewRulerColor: new vscode.ThemeColor(COLORS.overviewRuler),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
    });
    this.insertedType = vscode.window.createTextEditorDecorationType({
      overviewRulerColor: new vscode.ThemeColor(COLORS.overviewRuler),
      overviewRulerLane: vscode.OverviewRulerLane.Right,
    });
    this.gutterType = vscode.window.createTextEditorDecorationType({
      light: { gutterIconPath: icon('next-edit-light.svg') },
      dark: { gutterIconPath: icon('next-edit-dark.svg') },
      gutterIconSize: '70%',
    });
    this.hint = vscode.window.createStatusBarItem(NEXT_EDIT_STATUS_ITEM_ID, vscode.StatusBarAlignment.Right, 100.16);
    this.hint.name = 'Latency Copilot Next Edit';
    this.hint.command = NEXT_EDIT_COMMANDS.accept;
    const unsubscribe = deps.engine.subscribe({
      hunks: (prediction, hunks) => this.session.hunksArrived(prediction, hunks),
      ended: (prediction, outcome) => void this.perform(this.session.ended(prediction, outcome)),
    });
    this.disposables.push(
      { dispose: unsubscribe },
      this.removedType,
      this.insertedType,
      this.gutterType,
      this.hint,
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.toggle, () => this.toggle()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.suggest, () => this.suggest()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.accept, () => this.accept()),
      vscode.commands.registerCommand(NEXT_EDIT_COMMANDS.dismiss, () => this.dismiss()),
      vscode.workspace.onDidOpenTextDocument((document) => this.follow(document)),
      // A document opened while its folder's ignore rules were being read is followed once they are, from the text it
      // has then (usually before the first edit, so the history sees that edit whole).
      deps.fileGate.onDidLoadRules(() => {
        for (const document of vscode.workspace.textDocuments) this.follow(document);
      }),
      vscode.workspace.onDidCloseTextDocument((document) => this.closed(document)),
      vscode.workspace.onDidChangeTextDocument((event) => this.changed(event)),
      vscode.window.onDidChangeTextEditorSelection((event) => this.selectionChanged(event)),
      vscode.window.onDidChangeTextEditorVisibleRanges(() => this.renderHint(this.session.view())),
      vscode.window.onDidChangeActiveTextEditor(() => this.render()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.render()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (!event.affectsConfiguration('latencyCopilot.nextEdit.enabled')) return;
        if (!this.enabled()) this.stop();
        deps.onDidToggle?.();
      }),
    );
    for (const document of vscode.workspace.textDocuments) this.follow(document);
  }

  /** The ghost text for the inline provider: a predicted insertion at this offset, or null (a field comparison). */
  insertionAt(documentKey: string, offset: number): string | null {
    return this.session.ghostText(documentKey, offset);
  }

  /** What is shown now (the end-to-end suite reads it beside the screenshots). */
  view(): SessionView {
    return this.session.view();
  }

  dispose(): void {
    this.deps.engine.cancel();
    this.session.withdraw();
    void this.setContextKey(false);
    for (const disposable of this.disposables) disposable.dispose();
  }

  private enabled(): boolean {
    return readBooleanSetting(this.deps.settings, 'nextEdit.enabled');
  }

  private stop(): void {
    this.deps.engine.cancel();
    this.session.withdraw();
  }

  private async toggle(): Promise<void> {
    const next = !this.enabled();
    await vscode.workspace
      .getConfiguration('latencyCopilot')
      .update('nextEdit.enabled', next, vscode.ConfigurationTarget.Global);
    if (!next) this.stop();
    this.deps.log.info(`Next-edit suggestions ${next ? 'on' : 'off'}.`);
  }

  /** The gate's entry when a prediction may be made for the document (the inline path's rules), else null. */
  private allowed(document: vscode.TextDocument): GateEntry | null {
    const { settings } = this.deps;
    const entry = this.deps.fileGate.entryFor(document.uri);
    const verdict = gateVerdict({
      enabled: true,
      languageEnabled: languageEnabled(settings, document.languageId),
      file: entry.verdict,
      workspaceTrusted: vscode.workspace.isTrusted,
      allowUntrusted: readBooleanSetting(settings, 'inline.allowInUntrustedWorkspaces'),
    });
    return verdict === null ? entry : null;
  }

  /** Starts the edit history's copy of a document the gate allows (nothing of any other document is kept). */
  private follow(document: vscode.TextDocument): boolean {
    const key = document.uri.toString();
    if (this.followed.has(key)) return true;
    const entry = this.allowed(document);
    if (entry === null) return false;
    this.followed.add(key);
    this.deps.history.opened(key, entry.document.relativePath, document.getText());
    return true;
  }

  private closed(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    if (this.followed.delete(key)) this.deps.history.closed(key);
    if (this.session.view().documentKey === key) this.session.withdraw();
  }

  private changed(event: vscode.TextDocumentChangeEvent): void {
    const { document } = event;
    if (event.contentChanges.length === 0) return;
    // Output channels and other virtual documents are not the person's typing.
    if (document.uri.scheme !== 'file' && document.uri.scheme !== 'untitled') return;
    const key = document.uri.toString();
    const changes: DocumentTextChange[] = event.contentChanges.map((change) => ({
      offset: change.rangeOffset,
      length: change.rangeLength,
      text: change.text,
    }));
    const verdict = this.session.documentChanged(key, changes);
    // A document first seen now (its gate rules were still loading when it opened) is followed from its current text.
    const wasFollowed = this.followed.has(key);
    if (!this.follow(document)) return;
    const trigger = wasFollowed
      ? this.deps.history.changed(key, changes, this.deps.clock.now(), () => document.getText())
      : 'typing';
    if (!this.enabled()) return;
    if (verdict === 'applied' || verdict === 'applied-last') {
      this.deps.engine.noteApplied();
      // The chained prediction is asked for once the last hunk is in; while Tab's edit is in flight, after the cursor moves.
      if (verdict === 'applied-last' && !this.applying) this.predict(document, 'applied', endOfChanges(changes));
      return;
    }
    // An undo or redo is not a new intention to predict from (undoing an applied edit would suggest it again). Any
    // edit of the person's makes what is in flight stale, also one that asks for no prediction (new code typed at the
    // end of a line): stop paying for it.
    if (event.reason !== undefined || trigger === null) {
      this.deps.engine.cancel();
      return;
    }
    if (vscode.window.activeTextEditor?.document !== document) return;
    this.predict(document, trigger, null);
  }

  /** Asks the engine; the document is read when it asks (after the typing pause), not now. */
  private predict(document: vscode.TextDocument, trigger: NextEditTrigger, cursorOffset: number | null): void {
    this.deps.engine.edited(() => this.snapshotOf(document, cursorOffset), trigger);
  }

  private snapshotOf(document: vscode.TextDocument, cursorOffset: number | null): NextEditDocumentSnapshot | null {
    const editor = vscode.window.activeTextEditor;
    if (document.isClosed || editor?.document !== document) return null;
    const entry = this.allowed(document);
    if (entry === null) return null;
    const { history, clock } = this.deps;
    return {
      documentKey: document.uri.toString(),
      version: document.version,
      path: entry.document.relativePath,
      languageId: document.languageId,
      text: document.getText(),
      cursorOffset: cursorOffset ?? document.offsetAt(editor.selection.active),
      history: () => history.diffs(HISTORY_LIMIT, clock.now()),
      snippets: () => this.snippetsFor(document),
    };
  }

  /** What other visible editors show, from files the gate allows (the model sees what the person sees). */
  private snippetsFor(document: vscode.TextDocument): readonly ViewedSnippet[] {
    const snippets: ViewedSnippet[] = [];
    for (const editor of vscode.window.visibleTextEditors) {
      const other = editor.document;
      if (other === document) continue;
      const entry = this.allowed(other);
      if (entry === null) continue;
      const start = editor.visibleRanges[0]?.start.line ?? 0;
      const end = Math.min(other.lineCount, start + SNIPPET_LINES);
      snippets.push({ path: entry.document.relativePath, text: other.getText(new vscode.Range(start, 0, end, 0)) });
    }
    return snippets;
  }

  private selectionChanged(event: vscode.TextEditorSelectionChangeEvent): void {
    const document = event.textEditor.document;
    const active = event.selections[0]?.active;
    if (active !== undefined) this.session.cursorMoved(document.uri.toString(), document.offsetAt(active));
  }

  private suggest(): void {
    const editor = vscode.window.activeTextEditor;
    if (editor === undefined) return;
    if (!this.enabled()) {
      void vscode.window.showInformationMessage(
        'Next-edit suggestions are off. Turn them on with “Latency Copilot: Toggle Next-Edit Suggestions”.',
      );
      return;
    }
    if (!this.follow(editor.document)) {
      vscode.window.setStatusBarMessage(
        'Next edit: this file is not sent to a model (ignored, secret or outside the workspace).',
        4_000,
      );
      return;
    }
    this.predict(editor.document, 'manual', null);
  }

  private async accept(): Promise<void> {
    const action = this.session.accept();
    // The context key can lag a withdrawal by a moment: then the key press keeps its ordinary meaning.
    if (action.kind === 'none') await vscode.commands.executeCommand('tab');
    else await this.perform(action);
  }

  private dismiss(): void {
    if (this.session.dismiss()) this.deps.engine.noteDismissed();
  }

  /** Carries out what Tab decided: apply as one undo step, jump, or wait. */
  private async perform(action: TabAction): Promise<void> {
    switch (action.kind) {
      case 'none':
        return;
      case 'wait':
        vscode.window.setStatusBarMessage('Next edit: applying when the prediction has arrived…', 2_000);
        return;
      case 'jump': {
        const editor = this.editorOf(action.documentKey);
        if (editor === undefined) return;
        const position = editor.document.positionAt(action.offset);
        editor.selection = new vscode.Selection(position, position);
        editor.revealRange(new vscode.Range(position, position), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
        return;
      }
      case 'apply':
        await this.apply(action);
        return;
    }
  }

  private async apply(action: Extract<TabAction, { kind: 'apply' }>): Promise<void> {
    const editor = this.editorOf(action.documentKey);
    const document = editor?.document;
    if (editor === undefined || document === undefined || document.version !== action.version) {
      this.session.applyFailed();
      return;
    }
    const range = new vscode.Range(document.positionAt(action.start), document.positionAt(action.end));
    this.applying = true;
    // One undo step per applied hunk.
    const done = await Promise.resolve(
      editor.edit((builder) => builder.replace(range, action.newText), { undoStopBefore: true, undoStopAfter: true }),
    ).finally(() => {
      this.applying = false;
    });
    if (!done) {
      this.session.applyFailed();
      return;
    }
    const cursor = document.positionAt(action.cursorAfter);
    editor.selection = new vscode.Selection(cursor, cursor);
    if (this.session.view().current === null && this.enabled()) this.predict(document, 'applied', action.cursorAfter);
  }

  private documentOf(key: string): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((document) => document.uri.toString() === key);
  }

  private editorOf(key: string): vscode.TextEditor | undefined {
    const active = vscode.window.activeTextEditor;
    if (active?.document.uri.toString() === key) return active;
    return vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === key);
  }

  private viewportOf(key: string): { cursorLine: number; firstVisibleLine: number; lastVisibleLine: number } | null {
    const editor = this.editorOf(key);
    if (editor === undefined) return null;
    const ranges = editor.visibleRanges;
    const first = ranges[0];
    const last = ranges[ranges.length - 1];
    if (first === undefined || last === undefined) return null;
    return {
      cursorLine: editor.selection.active.line,
      firstVisibleLine: first.start.line,
      lastVisibleLine: last.end.line,
    };
  }

  /** Draws the session's view: decorations in every editor showing the document, the context key, hint, announcement. */
  private render(): void {
    const view = this.session.view();
    const editors = vscode.window.visibleTextEditors.filter(
      (editor) => view.documentKey !== null && editor.document.uri.toString() === view.documentKey,
    );
    for (const editor of this.decoratedEditors) {
      if (editors.includes(editor)) continue;
      editor.setDecorations(this.removedType, []);
      editor.setDecorations(this.insertedType, []);
      editor.setDecorations(this.gutterType, []);
      this.decoratedEditors.delete(editor);
    }
    for (const editor of editors) {
      this.decorate(editor, view);
      this.decoratedEditors.add(editor);
    }
    const active = vscode.window.activeTextEditor;
    const suggested = view.current !== null && active?.document.uri.toString() === view.documentKey;
    if (suggested !== this.contextKey) void this.setContextKey(suggested);
    this.renderHint(view);
    if (view.currentIsGhostText && !this.ghostShown) {
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
    this.ghostShown = view.currentIsGhostText;
    this.announce(view);
  }

  private decorate(editor: vscode.TextEditor, view: SessionView): void {
    const document = editor.document;
    const removed: vscode.DecorationOptions[] = [];
    const inserted: vscode.DecorationOptions[] = [];
    for (const hunk of view.decorated) {
      const isCurrent = hunk.id === view.current?.id;
      const start = document.positionAt(hunk.shown.start);
      const end = document.positionAt(hunk.shown.end);
      const hoverMessage = this.hover(hunk, document.languageId);
      if (hunk.shown.oldText !== '') removed.push({ range: new vscode.Range(start, end), hoverMessage });
      if (hunk.shown.newText !== '') {
        inserted.push({
          range: new vscode.Range(end, end),
          hoverMessage,
          renderOptions: {
            after: {
              contentText: inlineLabel(hunk.shown.newText),
              color: new vscode.ThemeColor(COLORS.insertedForeground),
              backgroundColor: new vscode.ThemeColor(COLORS.insertedBackground),
              // The current hunk is outlined, so it is clear which one Tab applies.
              border: isCurrent ? '1px solid' : undefined,
              borderColor: isCurrent ? new vscode.ThemeColor(COLORS.currentBorder) : undefined,
              margin: hunk.shown.oldText === '' ? '0' : '0 0 0 0.3em',
            },
          },
        });
      }
    }
    editor.setDecorations(this.removedType, removed);
    editor.setDecorations(this.insertedType, inserted);
    const current = view.current;
    const line = current === null ? null : document.lineAt(Math.min(current.line, document.lineCount - 1)).range;
    editor.setDecorations(this.gutterType, line === null || view.currentIsGhostText ? [] : [line]);
  }

  private hover(hunk: HunkView, languageId: string): vscode.MarkdownString {
    const hover = new vscode.MarkdownString('**Next edit** — Tab to apply, Escape to dismiss\n\n');
    hover.appendCodeblock(hunk.newText === '' ? '(deletes the struck-through text)' : hunk.shown.newText, languageId);
    return hover;
  }

  /** The status bar hint, when the current hunk is outside what the editor shows. */
  private renderHint(view: SessionView): void {
    const current = view.current;
    const viewport = view.documentKey === null ? null : this.viewportOf(view.documentKey);
    const outside =
      current !== null &&
      viewport !== null &&
      (current.line < viewport.firstVisibleLine || current.line > viewport.lastVisibleLine);
    if (!outside || current === null || viewport === null) {
      this.hint.hide();
      return;
    }
    const lineNumber = current.line + 1;
    const below = current.line > viewport.lastVisibleLine;
    this.hint.text = `$(arrow-${below ? 'down' : 'up'}) Next edit at line ${lineNumber} — Tab`;
    this.hint.tooltip = `A next edit is suggested at line ${lineNumber}. Tab goes there, the next Tab applies it; Escape dismisses it.`;
    this.hint.accessibilityInformation = {
      label: `Next edit suggested at line ${lineNumber}, ${below ? 'below' : 'above'}: Tab to go there, Escape to dismiss`,
      role: 'button',
    };
    this.hint.show();
  }

  /**
   * Screen readers hear of a newly current hunk: a non-modal information message is announced. The stable API does not
   * say whether a screen reader is attached, so only `editor.accessibilitySupport: on` turns it on.
   */
  private announce(view: SessionView): void {
    const current = view.current;
    if (current === null || current.id === this.announcedId) return;
    this.announcedId = current.id;
    if (vscode.workspace.getConfiguration('editor').get<unknown>('accessibilitySupport') !== 'on') return;
    void vscode.window.showInformationMessage(
      `Next edit suggested at line ${current.line + 1}: Tab to apply, Escape to dismiss`,
    );
  }

  private async setContextKey(value: boolean): Promise<void> {
    this.contextKey = value;
    await vscode.commands.executeCommand('setContext', NEXT_EDIT_CONTEXT_KEY, value);
  }
}
