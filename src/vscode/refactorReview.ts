import * as vscode from 'vscode';
import { reviewMarks } from '../core/refactor/lineDiff';
import type { StreamingEditSession } from '../core/refactor/streamingEditSession';

/** The command ids of the review (declared in package.json with keybindings). */
export const REVIEW_COMMANDS = {
  accept: 'latencyCopilot.refactor.accept',
  reject: 'latencyCopilot.refactor.reject',
  showDiff: 'latencyCopilot.refactor.showDiff',
} as const;

/** The context key that enables the review keybindings: true while a refactor waits for review. */
export const REVIEWING_CONTEXT_KEY = 'latencyCopilot.refactorReviewing';

const ORIGINAL_SCHEME = 'latency-copilot-original';

interface Review {
  readonly document: vscode.TextDocument;
  readonly session: StreamingEditSession;
  /** What was refactored and how, for the diff title ("Simplify: function total"). */
  readonly title: string;
}

/**
 * The review of finished refactors: added lines highlighted, removed lines marked where they were (their text on
 * hover), Accept / Reject / Open as Diff as code lenses above the region and as commands with keybindings.
 * Reject puts the original back exactly; Accept keeps the document as it is (the refactor already undoes in one step).
 * Editing inside the region during review keeps the new text and ends the review (the edit is never overwritten).
 */
export class RefactorReviews implements vscode.Disposable {
  private readonly reviews = new Map<string, Review>();
  private readonly added = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('diffEditor.insertedLineBackground'),
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.addedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly removed = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    borderColor: new vscode.ThemeColor('diffEditor.removedTextBorder'),
    borderStyle: 'solid',
    borderWidth: '2px 0 0 0',
    overviewRulerColor: new vscode.ThemeColor('editorOverviewRuler.deletedForeground'),
    overviewRulerLane: vscode.OverviewRulerLane.Left,
  });
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor() {
    this.subscriptions.push(
      this.added,
      this.removed,
      this.lensesChanged,
      vscode.languages.registerCodeLensProvider(
        { scheme: '*' },
        {
          onDidChangeCodeLenses: this.lensesChanged.event,
          provideCodeLenses: (document) => this.lensesFor(document),
        },
      ),
      vscode.workspace.registerTextDocumentContentProvider(ORIGINAL_SCHEME, {
        provideTextDocumentContent: (uri) => this.originalTextFor(uri),
      }),
      vscode.window.onDidChangeVisibleTextEditors(() => this.redrawAll()),
      vscode.window.onDidChangeActiveTextEditor(() => this.updateContextKey()),
      vscode.workspace.onDidCloseTextDocument((document) => this.end(document.uri)),
      vscode.commands.registerCommand(REVIEW_COMMANDS.accept, (uri?: unknown) => this.accept(uriArgument(uri))),
      vscode.commands.registerCommand(REVIEW_COMMANDS.reject, (uri?: unknown) => this.reject(uriArgument(uri))),
      vscode.commands.registerCommand(REVIEW_COMMANDS.showDiff, (uri?: unknown) => this.showDiff(uriArgument(uri))),
    );
  }

  /** Starts the review of a session that has just finished streaming. */
  start(document: vscode.TextDocument, session: StreamingEditSession, title: string): void {
    this.reviews.set(document.uri.toString(), { document, session, title });
    this.redraw(document);
    this.lensesChanged.fire();
    this.updateContextKey();
  }

  /** True when the document has a review in progress. */
  has(document: vscode.TextDocument): boolean {
    return this.reviews.has(document.uri.toString());
  }

  /** After the document changed: redraw, and end the review if the person edited the new text (which keeps it). */
  documentChanged(document: vscode.TextDocument): void {
    const review = this.reviews.get(document.uri.toString());
    if (review === undefined) return;
    if (review.session.state !== 'review') this.end(document.uri);
    else this.redraw(document);
  }

  async accept(uri?: vscode.Uri): Promise<void> {
    const review = this.reviewFor(uri);
    if (review === undefined) return;
    review.session.accept();
    this.end(review.document.uri);
  }

  async reject(uri?: vscode.Uri): Promise<void> {
    const review = this.reviewFor(uri);
    if (review === undefined) return;
    this.end(review.document.uri);
    const result = await review.session.reject();
    if (result !== 'restored') {
      void vscode.window.showWarningMessage(
        'Latency Copilot: the refactored code was edited, so it was kept as it is.',
      );
    }
  }

  async showDiff(uri?: vscode.Uri): Promise<void> {
    const review = this.reviewFor(uri);
    if (review === undefined) return;
    const original = vscode.Uri.from({
      scheme: ORIGINAL_SCHEME,
      path: review.document.uri.path,
      query: review.document.uri.toString(),
    });
    await vscode.commands.executeCommand(
      'vscode.diff',
      original,
      review.document.uri,
      `${review.title} (original ↔ refactored)`,
    );
  }

  dispose(): void {
    this.reviews.clear();
    for (const subscription of this.subscriptions) subscription.dispose();
    void vscode.commands.executeCommand('setContext', REVIEWING_CONTEXT_KEY, false);
  }

  private end(uri: vscode.Uri): void {
    const key = uri.toString();
    const review = this.reviews.get(key);
    if (review === undefined) return;
    this.reviews.delete(key);
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document === review.document) {
        editor.setDecorations(this.added, []);
        editor.setDecorations(this.removed, []);
      }
    }
    this.lensesChanged.fire();
    this.updateContextKey();
  }

  private reviewFor(uri: vscode.Uri | undefined): Review | undefined {
    const target = uri ?? vscode.window.activeTextEditor?.document.uri;
    if (target !== undefined) {
      const review = this.reviews.get(target.toString());
      if (review !== undefined) return review;
    }
    // One review open anywhere: the command applies to it (e.g. run from the diff editor's original side).
    if (this.reviews.size === 1) return this.reviews.values().next().value;
    void vscode.window.showInformationMessage('Latency Copilot: no refactor is waiting for review in this editor.');
    return undefined;
  }

  private lensesFor(document: vscode.TextDocument): vscode.CodeLens[] {
    const review = this.reviews.get(document.uri.toString());
    if (review === undefined) return [];
    const line = document.positionAt(review.session.region.offset).line;
    const range = new vscode.Range(line, 0, line, 0);
    const uri = document.uri;
    return [
      new vscode.CodeLens(range, {
        title: '$(check) Accept',
        tooltip: 'Keep the refactored code (Ctrl+Alt+Enter)',
        command: REVIEW_COMMANDS.accept,
        arguments: [uri],
      }),
      new vscode.CodeLens(range, {
        title: '$(discard) Reject',
        tooltip: 'Put the original code back (Ctrl+Alt+Backspace)',
        command: REVIEW_COMMANDS.reject,
        arguments: [uri],
      }),
      new vscode.CodeLens(range, {
        title: '$(diff) Open as Diff',
        command: REVIEW_COMMANDS.showDiff,
        arguments: [uri],
      }),
    ];
  }

  private originalTextFor(uri: vscode.Uri): string {
    const review = this.reviews.get(uri.query);
    if (review === undefined) return '';
    const text = review.document.getText();
    const region = review.session.region;
    return text.slice(0, region.offset) + review.session.original + text.slice(region.offset + region.length);
  }

  private redrawAll(): void {
    for (const review of this.reviews.values()) this.redraw(review.document);
  }

  private redraw(document: vscode.TextDocument): void {
    const review = this.reviews.get(document.uri.toString());
    if (review === undefined) return;
    const region = review.session.region;
    const firstLine = document.positionAt(region.offset).line;
    const lastLine = document.positionAt(region.offset + region.length).line;
    const marks = reviewMarks(review.session.original, review.session.regionText());
    const added = marks.addedLines.map((index) => new vscode.Range(firstLine + index, 0, firstLine + index, 0));
    const removed = marks.removedBlocks.map((block) => {
      const line = Math.min(firstLine + block.beforeNewLine, Math.max(firstLine, lastLine), document.lineCount - 1);
      const hover = new vscode.MarkdownString();
      hover.appendText(`${block.lines.length} line${block.lines.length === 1 ? '' : 's'} removed here:`);
      hover.appendCodeblock(block.lines.join('\n'), document.languageId);
      return {
        range: new vscode.Range(line, 0, line, 0),
        hoverMessage: hover,
        renderOptions: {
          after: {
            contentText: `  − ${block.lines.length} removed line${block.lines.length === 1 ? '' : 's'}`,
            color: new vscode.ThemeColor('editorGhostText.foreground'),
          },
        },
      };
    });
    for (const editor of vscode.window.visibleTextEditors) {
      if (editor.document !== document) continue;
      editor.setDecorations(this.added, added);
      editor.setDecorations(this.removed, removed);
    }
  }

  // True while any review is open, not only the active editor's: the commands also work from the diff editor, whose
  // active document is the original, and `reviewFor` picks the only open review then.
  private updateContextKey(): void {
    void vscode.commands.executeCommand('setContext', REVIEWING_CONTEXT_KEY, this.reviews.size > 0);
  }
}

function uriArgument(value: unknown): vscode.Uri | undefined {
  return value instanceof vscode.Uri ? value : undefined;
}
