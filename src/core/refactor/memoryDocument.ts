import type { EditOutcome, RefactorDocument, TextChange, UndoStops } from './refactorDocument';

interface UndoGroup {
  /** The changes of the group in the order they were applied, each with the text it replaced. */
  readonly changes: { readonly change: TextChange; readonly replaced: string }[];
  open: boolean;
}

/** Options of a `MemoryDocument`. */
export interface MemoryDocumentOptions {
  readonly eol?: '\n' | '\r\n';
  /**
   * How an edit request is delivered: VS Code applies an extension's edit in another process, so the result arrives
   * asynchronously. The default delivers it on the next macrotask (`setImmediate`); tests may deliver synchronously.
   */
  readonly deliver?: (apply: () => void) => void;
}

/**
 * An in-memory document with VS Code's edit semantics, for tests and the benchmark:
 * - an edit is made against the version current when it was requested, and is refused (`stale`) if the document
 *   changed before it could be applied;
 * - inserted line ends are normalised to the document's `eol`;
 * - change listeners are told before the edit's promise resolves (as in VS Code, where the change event reaches the
 *   extension host before the edit's reply);
 * - the undo stack groups edits between undo stops; `type` behaves like a keystroke (its own undo step), and `undo`
 *   reverts the newest group.
 */
export class MemoryDocument implements RefactorDocument {
  readonly eol: '\n' | '\r\n';
  private text: string;
  private versionValue = 1;
  private readonly listeners = new Set<(changes: readonly TextChange[]) => void>();
  private readonly undoStack: UndoGroup[] = [];
  private readonly deliver: (apply: () => void) => void;
  private closedValue = false;
  /** How many edits the refactor applied (for the benchmark's edits per second). */
  editCount = 0;

  constructor(initialText: string, options: MemoryDocumentOptions = {}) {
    this.eol = options.eol ?? '\n';
    this.text = initialText;
    this.deliver = options.deliver ?? ((apply) => setImmediate(apply));
  }

  /** Increases with every change. */
  get version(): number {
    return this.versionValue;
  }

  getText(): string {
    return this.text;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onDidChange(listener: (changes: readonly TextChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  applyEdit(change: TextChange, stops: UndoStops): Promise<EditOutcome> {
    const requestedAtVersion = this.versionValue;
    return new Promise((resolve) => {
      this.deliver(() => {
        if (this.closedValue) return resolve('closed');
        if (this.versionValue !== requestedAtVersion) return resolve('stale');
        if (stops.undoStopBefore) this.pushUndoStop();
        this.editCount += 1;
        this.change({ ...change, text: this.normaliseEol(change.text) });
        if (stops.undoStopAfter) this.pushUndoStop();
        resolve('applied');
      });
    });
  }

  /** A keystroke (or paste) by the person: applied at once, as its own undo step. */
  type(offset: number, text: string, deleteLength = 0): void {
    this.pushUndoStop();
    this.change({ offset, length: deleteLength, text: this.normaliseEol(text) });
    this.pushUndoStop();
  }

  /** Undoes the newest undo group (like Ctrl+Z). Returns false when there is nothing to undo. */
  undo(): boolean {
    const group = this.undoStack.pop();
    if (group === undefined) return false;
    const inverse = [...group.changes].reverse().map(({ change, replaced }) => ({
      offset: change.offset,
      length: change.text.length,
      text: replaced,
    }));
    // One event per change, so that each change's offsets are those of the text just before it.
    for (const change of inverse) {
      this.apply(change);
      this.versionValue += 1;
      this.emit([change]);
    }
    return true;
  }

  /** How many undo steps the stack holds. */
  get undoDepth(): number {
    return this.undoStack.length;
  }

  /** Closes the document: later edits resolve `closed`. */
  close(): void {
    this.closedValue = true;
  }

  private pushUndoStop(): void {
    const top = this.undoStack[this.undoStack.length - 1];
    if (top !== undefined) top.open = false;
  }

  private change(change: TextChange): void {
    const replaced = this.apply(change);
    const top = this.undoStack[this.undoStack.length - 1];
    if (top !== undefined && top.open) top.changes.push({ change, replaced });
    else this.undoStack.push({ changes: [{ change, replaced }], open: true });
    this.versionValue += 1;
    this.emit([change]);
  }

  private apply(change: TextChange): string {
    if (change.offset < 0 || change.offset + change.length > this.text.length) {
      throw new RangeError(
        `Edit [${change.offset}, +${change.length}) is outside a document of ${this.text.length} characters.`,
      );
    }
    const replaced = this.text.slice(change.offset, change.offset + change.length);
    this.text = this.text.slice(0, change.offset) + change.text + this.text.slice(change.offset + change.length);
    return replaced;
  }

  private emit(changes: readonly TextChange[]): void {
    for (const listener of this.listeners) listener(changes);
  }

  private normaliseEol(text: string): string {
    const lf = text.replace(/\r\n?/g, '\n');
    return this.eol === '\n' ? lf : lf.replace(/\n/g, '\r\n');
  }
}
