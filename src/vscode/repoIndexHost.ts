import * as vscode from 'vscode';
import type { Clock } from '../core/clock';
import type { Logger } from '../core/logger';
import { IGNORE_FILE_NAMES, REPOSITORY_EXCLUDE_FILE } from '../core/repo/fileGate';
import { DEFAULT_MAX_FILE_BYTES } from '../core/repo/fileSafety';
import { gatedRepoFileSystem } from '../core/repo/gatedRepoFileSystem';
import { nodeRepoFileSystem } from '../core/repo/nodeRepoFileSystem';
import type { RepoFileSystem } from '../core/repo/repoFileSystem';
import { RepoIndex, type IndexReport } from '../core/repo/repoIndex';
import { systemScheduler, type ScheduledTask } from '../core/scheduler';

/** A built index of one workspace folder. */
export interface ReadyIndex {
  readonly index: RepoIndex;
  readonly fs: RepoFileSystem;
  readonly folder: vscode.WorkspaceFolder;
}

/** What the host needs from the composition root. */
export interface RepoIndexHostDeps {
  readonly log: Logger;
  /** Times the build and each batch of updates, for the log. */
  readonly clock: Clock;
  /** The per-file size limit in bytes (setting `latencyCopilot.repo.maxFileSizeKb`). */
  readonly maxFileBytes?: () => number;
  /** The built reader thread (`dist/repoFileReader.js`): a cold index reads and analyses files on it. */
  readonly readerScript?: string;
  /** git's global excludes file (shared with the inline gate): read into the index's rules; a change rebuilds the index. */
  readonly globalExcludes?: {
    text(): Promise<string | null>;
    readonly onDidChange: vscode.Event<void>;
  };
}

/** Watcher events are applied in batches after this quiet time, in ms (a branch switch sends thousands at once). */
const WATCH_COALESCE_MS = 250;

/** Recently edited files remembered for ranking. */
const RECENT_EDITS = 20;

/**
 * Owns the repository index of the first workspace folder: built on first use (never at activation), then kept current
 * by a file watcher whose events are coalesced and applied one path at a time (no rebuilds). It also tracks the
 * ranking signals the editor knows: the active editor, open editors and recently edited files.
 */
export class RepoIndexHost implements vscode.Disposable {
  private ready: Promise<ReadyIndex> | null = null;
  private current: ReadyIndex | null = null;
  private watcher: vscode.FileSystemWatcher | null = null;
  private readonly pending = new Set<string>();
  private flushTask: ScheduledTask | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly recentEdits: string[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly deps: RepoIndexHostDeps) {
    this.disposables.push(
      vscode.workspace.onDidChangeTextDocument((event) => {
        if (event.contentChanges.length === 0) return;
        const path = this.relativePath(event.document.uri);
        if (path === null) return;
        const at = this.recentEdits.indexOf(path);
        if (at >= 0) this.recentEdits.splice(at, 1);
        this.recentEdits.unshift(path);
        this.recentEdits.length = Math.min(this.recentEdits.length, RECENT_EDITS);
      }),
    );
    if (deps.globalExcludes !== undefined) this.disposables.push(deps.globalExcludes.onDidChange(() => this.reset()));
  }

  /** The folder indexed: the first workspace folder on the local disk, or null. */
  folder(): vscode.WorkspaceFolder | null {
    return vscode.workspace.workspaceFolders?.find((folder) => folder.uri.scheme === 'file') ?? null;
  }

  /** A POSIX path relative to the indexed folder, or null for a file outside it. */
  relativePath(uri: vscode.Uri): string | null {
    const folder = this.folder();
    if (folder === null || uri.scheme !== 'file') return null;
    const root = folder.uri.path.endsWith('/') ? folder.uri.path : `${folder.uri.path}/`;
    return uri.path.startsWith(root) ? uri.path.slice(root.length) : null;
  }

  /** The URI of a path relative to the indexed folder. */
  uriOf(path: string): vscode.Uri | null {
    const folder = this.folder();
    return folder === null ? null : vscode.Uri.joinPath(folder.uri, ...path.split('/'));
  }

  /** The editor's ranking signals, as paths relative to the folder. */
  signals(): { activePath: string | null; openPaths: string[]; recentEdits: string[] } {
    const active = vscode.window.activeTextEditor?.document.uri;
    const openPaths: string[] = [];
    for (const group of vscode.window.tabGroups.all) {
      for (const tab of group.tabs) {
        if (tab.input instanceof vscode.TabInputText) {
          const path = this.relativePath(tab.input.uri);
          if (path !== null) openPaths.push(path);
        }
      }
    }
    return {
      activePath: active === undefined ? null : this.relativePath(active),
      openPaths,
      recentEdits: [...this.recentEdits],
    };
  }

  /** The index, built on first call (later calls share it). Rejects when no local folder is open. */
  async index(report: (message: string) => void, signal: AbortSignal): Promise<ReadyIndex> {
    if (this.ready === null) {
      const folder = this.folder();
      if (folder === null) throw new Error('Open a folder on this machine to use the repository commands.');
      const started = this.build(folder, report, signal);
      this.ready = started;
      // A cancelled or failed build is forgotten, so the next command tries again.
      started.catch(() => {
        if (this.ready === started) this.ready = null;
      });
    }
    return this.ready;
  }

  private async build(
    folder: vscode.WorkspaceFolder,
    report: (message: string) => void,
    signal: AbortSignal,
  ): Promise<ReadyIndex> {
    // The same rules as the inline gate (core/repo/fileGate.ts): secrets by folder are never read, and git's global
    // excludes file is part of the repository's exclude rules.
    const globalExcludes = (await this.deps.globalExcludes?.text()) ?? null;
    const fs = gatedRepoFileSystem(
      nodeRepoFileSystem(folder.uri.fsPath, { readerScript: this.deps.readerScript }),
      globalExcludes,
    );
    const index = new RepoIndex(fs, { maxFileBytes: this.deps.maxFileBytes?.() ?? DEFAULT_MAX_FILE_BYTES });
    // Watch from before the walk, so that changes made while it runs are applied after it.
    this.startWatching(folder);
    report(`Indexing ${folder.name}…`);
    const startMs = this.deps.clock.now();
    const summary = await index.build(signal);
    const ready: ReadyIndex = { index, fs, folder };
    this.current = ready;
    this.deps.log.info(
      `Repository index of ${folder.name}: ${describeReport(summary)} in ${(this.deps.clock.now() - startMs).toFixed(0)} ms (read by ${summary.readBy})`,
    );
    if (summary.readerProblem !== null) {
      this.deps.log.warn(
        `Repository index: the reader thread could not be used, files were read on the extension host's thread instead (${summary.readerProblem})`,
      );
    }
    this.scheduleFlush();
    return ready;
  }

  private startWatching(folder: vscode.WorkspaceFolder): void {
    if (this.watcher !== null) return;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, '**/*'));
    const queue = (uri: vscode.Uri): void => {
      const path = this.relativePath(uri);
      if (path === null || path === '') return;
      // A change to the root's rules (its ignore files, info/exclude) may touch every file: `RepoIndex.update` would
      // rescan the whole tree now, on this thread; building again on next use reads the same files later, on the reader
      // thread, and not at all if no repository task follows.
      if (path === REPOSITORY_EXCLUDE_FILE || IGNORE_FILE_NAMES.some((name) => name === path)) {
        this.reset();
        return;
      }
      this.pending.add(path);
      this.scheduleFlush();
    };
    this.disposables.push(watcher, watcher.onDidCreate(queue), watcher.onDidChange(queue), watcher.onDidDelete(queue));
    this.watcher = watcher;
  }

  private scheduleFlush(): void {
    if (this.current === null || this.pending.size === 0) return;
    this.flushTask?.cancel();
    this.flushTask = systemScheduler.schedule(WATCH_COALESCE_MS, () => {
      this.flushing = this.flushing.then(() => this.flush());
    });
  }

  /** Applies queued watcher events one path at a time (each an incremental update). */
  private async flush(): Promise<void> {
    const ready = this.current;
    if (ready === null) return;
    const paths = [...this.pending];
    this.pending.clear();
    const startMs = this.deps.clock.now();
    for (const path of paths) {
      try {
        await ready.index.update(path);
      } catch (error) {
        this.deps.log.warn(
          `Repository index: could not update ${path}: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
    this.deps.log.debug(
      `Repository index: applied ${paths.length} change(s) in ${(this.deps.clock.now() - startMs).toFixed(1)} ms`,
    );
  }

  /** Forgets the index (settings changed, folder changed): the next command builds it again. */
  reset(): void {
    this.ready = null;
    this.current = null;
    this.pending.clear();
  }

  dispose(): void {
    this.flushTask?.cancel();
    for (const disposable of this.disposables) disposable.dispose();
    this.disposables.length = 0;
  }
}

/** One line for the log: files indexed and left out by reason. */
export function describeReport(report: IndexReport): string {
  const excluded = Object.entries(report.excluded)
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${count} ${reason}`)
    .join(', ');
  return `${report.files} files, ${report.chunks} chunks${excluded === '' ? '' : `; left out: ${excluded}`}`;
}
