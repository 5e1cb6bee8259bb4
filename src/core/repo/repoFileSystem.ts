/** One entry of a directory listing. Symbolic links and devices are `other` and never followed. */
export interface RepoDirectoryEntry {
  readonly name: string;
  readonly kind: 'file' | 'directory' | 'other';
}

/** The result of reading a file with a size limit. Sizes in bytes; `mtimeMs` is the file's modification time. */
export type RepoFileRead =
  | { readonly kind: 'ok'; readonly bytes: Uint8Array; readonly mtimeMs: number }
  | { readonly kind: 'too-large'; readonly sizeBytes: number }
  | { readonly kind: 'missing' };

/**
 * The file system seen by the repository index, with POSIX paths relative to the workspace root (`''` is the root).
 * The adapter backs it with node:fs (local folders) or `vscode.workspace.fs`; tests with a temp folder.
 */
export interface RepoFileSystem {
  /** Lists a directory; an empty list when it does not exist. */
  readDirectory(path: string): Promise<readonly RepoDirectoryEntry[]>;
  /** Reads a file unless it is larger than `maxBytes` (then only its size is returned, no content). */
  readFile(path: string, maxBytes: number): Promise<RepoFileRead>;
  /**
   * Reads a file like `readFile` and lends the result to `use`, returning what `use` returns. The bytes are valid only
   * during that call (an implementation may reuse one buffer for every file): indexing thousands of files then costs no
   * allocation per file.
   */
  lendFile<T>(path: string, maxBytes: number, use: (read: RepoFileRead) => T): Promise<T>;
  /** Whether the path is a directory, a file, or nothing (for watcher events). */
  kindOf(path: string): Promise<'file' | 'directory' | 'missing'>;
}
