import * as vscode from 'vscode';
import type { EditOutcome, RefactorDocument, TextChange, UndoStops } from '../core/refactor/refactorDocument';

/**
 * A VS Code document as the refactor session's `RefactorDocument`. Edits go through a visible `TextEditor` (the only
 * API that controls undo stops, and it refuses an edit made against an outdated version: `stale`). When no editor shows
 * the document any more, streaming stops (`closed`): text is never streamed into a document the person cannot see.
 * Only a restore may then go through a workspace edit (`allowHiddenEdits`), which has no undo-stop control.
 */
export class EditorRefactorDocument implements RefactorDocument {
  readonly eol: '\n' | '\r\n';
  /** Set before restoring after the editor went away. */
  allowHiddenEdits = false;

  constructor(private readonly document: vscode.TextDocument) {
    this.eol = document.eol === vscode.EndOfLine.CRLF ? '\r\n' : '\n';
  }

  getText(): string {
    return this.document.getText();
  }

  async applyEdit(change: TextChange, stops: UndoStops): Promise<EditOutcome> {
    if (this.document.isClosed) return 'closed';
    const range = new vscode.Range(
      this.document.positionAt(change.offset),
      this.document.positionAt(change.offset + change.length),
    );
    const editor = vscode.window.visibleTextEditors.find((candidate) => candidate.document === this.document);
    if (editor !== undefined) {
      try {
        const applied = await editor.edit((builder) => builder.replace(range, change.text), stops);
        return applied ? 'applied' : 'stale';
      } catch {
        // "TextEditor#edit not possible on closed editors": the editor closed while the edit was on its way.
        if (!this.allowHiddenEdits) return 'closed';
      }
    }
    if (!this.allowHiddenEdits) return 'closed';
    const edit = new vscode.WorkspaceEdit();
    edit.replace(this.document.uri, range, change.text);
    return (await vscode.workspace.applyEdit(edit)) ? 'appliedUngrouped' : 'stale';
  }
}

/** VS Code's content changes as the core's `TextChange`s (same meaning: offsets of the text before the change). */
export function textChangesOf(event: vscode.TextDocumentChangeEvent): TextChange[] {
  return event.contentChanges.map((change) => ({
    offset: change.rangeOffset,
    length: change.rangeLength,
    text: change.text,
  }));
}
