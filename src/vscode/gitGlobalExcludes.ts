import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname } from 'node:path';
import * as vscode from 'vscode';
import { readGitGlobalExcludes } from '../core/repo/gitGlobalExcludes';
import type { GitGlobalExcludes } from '../core/repo/gitGlobalExcludes';

/** An ignore or config file larger than this (bytes) is not read: none is anywhere near it, and the index caps the same. */
const MAX_IGNORE_FILE_BYTES = 1024 * 1024;

/** Reads a small text file; null when it is missing, unreadable or over the cap. */
export async function readSmallTextFile(path: string): Promise<string | null> {
  try {
    if ((await stat(path)).size > MAX_IGNORE_FILE_BYTES) return null;
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

/**
 * git's global excludes file, shared by the inline gate and the repository index: found and read on first use (never at
 * activation), watched with the config files that name it, and read again after any of them changes.
 */
export class GitGlobalExcludesFile implements vscode.Disposable {
  private current: Promise<GitGlobalExcludes> | null = null;
  private watchers: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the file, or a config file that may move it, changed: the next `text()` reads it again. */
  readonly onDidChange = this.changed.event;

  /** The file's text, or null when there is none. */
  text(): Promise<string | null> {
    if (this.current === null) {
      const found = readGitGlobalExcludes(
        { home: homedir(), xdgConfigHome: process.env.XDG_CONFIG_HOME, gitConfigGlobal: process.env.GIT_CONFIG_GLOBAL },
        readSmallTextFile,
      );
      this.current = found;
      void found.then((result) => {
        if (this.current === found) this.watch([...result.configPaths, result.path]);
      });
    }
    return this.current.then((found) => found.text);
  }

  private watch(paths: readonly string[]): void {
    this.unwatch();
    for (const path of paths) {
      if (path === '') continue;
      // A file outside the workspace is watched through a pattern based on its own folder (not recursive).
      const watcher = vscode.workspace.createFileSystemWatcher(
        new vscode.RelativePattern(vscode.Uri.file(dirname(path)), basename(path)),
      );
      const changed = () => this.forget();
      this.watchers.push(
        watcher,
        watcher.onDidChange(changed),
        watcher.onDidCreate(changed),
        watcher.onDidDelete(changed),
      );
    }
  }

  private forget(): void {
    this.current = null;
    this.unwatch();
    this.changed.fire();
  }

  private unwatch(): void {
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers = [];
  }

  dispose(): void {
    this.unwatch();
    this.changed.dispose();
  }
}
