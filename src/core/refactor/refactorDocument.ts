/** One replacement in a document, in UTF-16 offsets of the text before the change (like VS Code's content changes). */
export interface TextChange {
  readonly offset: number;
  /** How many characters were replaced. */
  readonly length: number;
  readonly text: string;
}

/**
 * Undo grouping for one edit, with VS Code's meaning: a stop before closes the undo group the document had open, a stop
 * after closes the group this edit joined. Edits without stops join the open group, so a run of them undoes as one step.
 */
export interface UndoStops {
  readonly undoStopBefore: boolean;
  readonly undoStopAfter: boolean;
}

/**
 * How an edit went:
 * - `applied`: applied with the undo stops as asked;
 * - `appliedUngrouped`: applied, but through a path that cannot honour undo stops (VS Code's `workspace.applyEdit`
 *   when no editor shows the document), so the edits so far may not undo as one step;
 * - `stale`: not applied because the document changed first (the caller retries once it has seen that change);
 * - `closed`: not applied because the document or its editor is gone.
 */
export type EditOutcome = 'applied' | 'appliedUngrouped' | 'stale' | 'closed';

/**
 * The document a refactor streams into, with the editor's edit semantics. The VS Code adapter wraps a `TextEditor`;
 * tests and the benchmark use `MemoryDocument`. The owner of the refactor session forwards every change the document
 * reports (its own edits included) to `StreamingEditSession.documentChanged`.
 */
export interface RefactorDocument {
  /** The end-of-line sequence inserted text is normalised to. */
  readonly eol: '\n' | '\r\n';
  /** The whole current text. */
  getText(): string;
  /** Replaces `[offset, offset + length)` with `text` (whose line ends are already `eol`). */
  applyEdit(change: TextChange, stops: UndoStops): PromiseLike<EditOutcome>;
}
