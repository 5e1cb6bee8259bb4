import * as vscode from 'vscode';
import { IGNORE_FILE_NAMES, REPOSITORY_EXCLUDE_FILE, WorkspaceFileGate } from '../core/repo/fileGate';
import type { GateDocument, GateEntry } from '../core/repo/fileGate';
import { readSmallTextFile } from './gitGlobalExcludes';

/** Where git's global excludes come from (`GitGlobalExcludesFile`). */
export interface GlobalExcludesSource {
  text(): Promise<string | null>;
  readonly onDidChange: vscode.Event<void>;
}

/** A document as the shared file gate sees it: scheme, workspace folder, path relative to the folder (POSIX). */
function gateDocumentOf(uri: vscode.Uri): GateDocument {
  const name = uri.path.slice(uri.path.lastIndexOf('/') + 1);
  const folder = uri.scheme === 'file' ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
  if (folder === undefined || folder.uri.scheme !== 'file')
    return { scheme: uri.scheme, folder: null, folderName: '', relativePath: name };
  const root = folder.uri.path.endsWith('/') ? folder.uri.path : `${folder.uri.path}/`;
  const relativePath = uri.path.startsWith(root)
    ? uri.path.slice(root.length)
    : vscode.workspace.asRelativePath(uri, false);
  return { scheme: uri.scheme, folder: folder.uri.toString(), folderName: folder.name, relativePath };
}

/**
 * The shared file gate (`core/repo/fileGate.ts`) fed by the editor, one for inline completions and next-edit
 * suggestions: ignore files read from disk and watched, verdicts forgotten when a document closes or the folders
 * change. A document refused only because its rules were still being read is asked about again when they arrive (VS
 * Code is told to request a suggestion again if it is still the active one), so the first keystroke in a new folder is
 * late, not lost.
 */
export class EditorFileGate implements vscode.Disposable {
  private readonly gate: WorkspaceFileGate;
  private readonly disposables: vscode.Disposable[] = [];
  /** The document last refused with `loading`. */
  private waiting: vscode.Uri | null = null;
  private readonly loaded = new vscode.EventEmitter<void>();
  /** Fires when ignore rules finish loading: a document refused with `loading` may be asked about again. */
  readonly onDidLoadRules: vscode.Event<void> = this.loaded.event;

  constructor(globalExcludes: GlobalExcludesSource) {
    this.gate = new WorkspaceFileGate(
      {
        readFolderFile: (folder, relativePath) =>
          readSmallTextFile(vscode.Uri.joinPath(vscode.Uri.parse(folder), ...relativePath.split('/')).fsPath),
        readGlobalExcludes: () => globalExcludes.text(),
      },
      () => this.rulesLoaded(),
    );
    const ignoreFiles = vscode.workspace.createFileSystemWatcher(`**/{${IGNORE_FILE_NAMES.join(',')}}`);
    const repositoryExcludes = vscode.workspace.createFileSystemWatcher(`**/${REPOSITORY_EXCLUDE_FILE}`);
    const changed = (uri: vscode.Uri) => {
      const document = gateDocumentOf(uri);
      if (document.folder !== null) this.gate.fileChanged(document.folder, document.relativePath);
    };
    for (const watcher of [ignoreFiles, repositoryExcludes]) {
      this.disposables.push(
        watcher,
        watcher.onDidChange(changed),
        watcher.onDidCreate(changed),
        watcher.onDidDelete(changed),
      );
    }
    this.disposables.push(
      globalExcludes.onDidChange(() => this.gate.globalExcludesChanged()),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.gate.reset()),
      vscode.workspace.onDidCloseTextDocument((document) => this.gate.forget(document.uri.toString())),
    );
  }

  /** The verdict for a document: a map lookup once known (whatever the document's version), else decided now. */
  entryFor(uri: vscode.Uri): GateEntry {
    const key = uri.toString();
    return this.gate.cached(key) ?? this.gate.decide(key, gateDocumentOf(uri));
  }

  /** A suggestion for this document was refused while its rules were being read: ask again when they arrive. */
  askAgainWhenLoaded(uri: vscode.Uri): void {
    this.waiting = uri;
  }

  private rulesLoaded(): void {
    this.loaded.fire();
    const waiting = this.waiting;
    if (waiting === null) return;
    const verdict = this.gate.decide(waiting.toString(), gateDocumentOf(waiting)).verdict;
    if (verdict === 'loading') return;
    this.waiting = null;
    if (verdict === 'allowed' && vscode.window.activeTextEditor?.document.uri.toString() === waiting.toString()) {
      void vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
    }
  }

  dispose(): void {
    this.loaded.dispose();
    for (const disposable of this.disposables) disposable.dispose();
  }
}
