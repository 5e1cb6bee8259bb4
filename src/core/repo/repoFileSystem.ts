import type { FileAnalysis } from './fileAnalysis';

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

/** Which thread read the files `lendFiles` lent, and why not the reader thread when it could not be used. */
export interface LendOutcome {
  readonly readBy: 'reader thread' | 'this thread';
  /** Why the reader thread was given up (it could not start, or it failed), or null. */
  readonly readerProblem: string | null;
}

/**
 * The file system seen by the repository index, with POSIX paths relative to the workspace root (`''` is the root).
 * The adapter backs it with node:fs (local folders) or `vscode.workspace.fs`; tests with a temp folder.
 */
export interface RepoFileSystem {
  /** Lists a directory; an empty list when it does not exist. */
  readDirectory(path: string): Promise<readonly RepoDirectoryEntry[]>;
  /**
   * Reads a file unless it is larger than `maxBytes` (then only its size is returned, no content). A symbolic link, or a
   * file reached through one, reads as `missing`.
   */
  readFile(path: string, maxBytes: number): Promise<RepoFileRead>;
  /**
   * Reads a file like `readFile` and lends the result to `use`, returning what `use` returns. The bytes are valid only
   * during that call (an implementation may reuse one buffer for every file): indexing thousands of files then costs no
   * allocation per file.
   */
  lendFile<T>(path: string, maxBytes: number, use: (read: RepoFileRead) => T): Promise<T>;
  /**
   * Optional: reads many files in this order and lends each read to `use` (bytes valid only during that call), as fast
   * as the file system allows. The node:fs one reads and analyses them on a worker thread while `use` runs, and passes
   * the analysis along (null: not analysed, the caller analyses). The event loop runs between batches. Rejects with the
   * signal's reason when aborted.
   */
  lendFiles?(
    paths: readonly string[],
    maxBytes: number,
    use: (path: string, read: RepoFileRead, analysis: FileAnalysis | null) => void,
    signal?: AbortSignal,
  ): Promise<LendOutcome>;
  /**
   * Whether the path is a directory, a file, or nothing (for watcher events). A symbolic link, or a path reached through
   * one, is `missing`: the index never follows a link (its target may lie outside the workspace or be a secret).
   */
  kindOf(path: string): Promise<'file' | 'directory' | 'missing'>;
}
