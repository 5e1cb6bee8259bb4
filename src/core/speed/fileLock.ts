// A lock file shared by processes (VS Code windows) that change one file: whoever creates `<file>.lock` first holds it.
// Held for milliseconds (one append, one compaction); a lock older than `staleAfterMs` was left by a process that died
// holding it and is broken. Two processes that break the same stale lock at the same moment could both go ahead: the
// cost is one compaction racing one append, against a lock that has to be 10 s stale first.
import { randomBytes } from 'node:crypto';
import type { TextFiles } from './textFiles';

/** Options for `acquireFileLock`. */
export interface FileLockOptions {
  readonly files: Pick<TextFiles, 'createExclusive' | 'modifiedAtMs' | 'remove' | 'openRead'>;
  /** The lock file, e.g. `<globalStorage>/speed-history.jsonl.lock`. */
  readonly lockPath: string;
  /** Wall-clock time in ms since the epoch (a lock file's age is told by its modification time). */
  readonly wallClockMs: () => number;
  /** Waits between attempts. */
  readonly sleep: (ms: number) => Promise<void>;
  /** A lock older than this is taken to be left by a process that died, in ms (default 10,000). */
  readonly staleAfterMs?: number;
  /** The wait between attempts, in ms (default 25). */
  readonly retryEveryMs?: number;
  /** Attempts before giving up (default 80: about 2 s with the default wait). */
  readonly attempts?: number;
}

/** A lock being held. */
export interface HeldFileLock {
  /** Removes the lock file, unless it is no longer ours (broken as stale and taken by another process). */
  release(): Promise<void>;
}

/** The default time after which a lock is taken to be stale, in ms. */
export const STALE_LOCK_MS = 10_000;

async function readSmallText(files: FileLockOptions['files'], path: string): Promise<string | null> {
  const file = await files.openRead(path);
  if (file === null) return null;
  try {
    return new TextDecoder().decode(await file.read(0, Math.min(file.size, 256)));
  } finally {
    await file.close();
  }
}

/**
 * Takes the lock, waiting for another holder to finish. Resolves to null when it could not be had in time or the lock
 * file cannot be created at all (a read-only folder): the caller decides whether to go ahead without it.
 */
export async function acquireFileLock(options: FileLockOptions): Promise<HeldFileLock | null> {
  const { files, lockPath } = options;
  const staleAfterMs = options.staleAfterMs ?? STALE_LOCK_MS;
  const attempts = Math.max(1, options.attempts ?? 80);
  // Who holds it: this process, and a random part so that a stale lock broken and re-taken is told apart.
  const token = `${process.pid} ${randomBytes(6).toString('hex')}\n`;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      if (await files.createExclusive(lockPath, token)) {
        return {
          release: async () => {
            try {
              if ((await readSmallText(files, lockPath)) === token) await files.remove(lockPath);
            } catch {
              // A lock that cannot be removed goes stale and is broken by the next process; nothing to tell.
            }
          },
        };
      }
      const modifiedAt = await files.modifiedAtMs(lockPath);
      if (modifiedAt !== null && Math.abs(options.wallClockMs() - modifiedAt) > staleAfterMs) {
        await files.remove(lockPath);
        continue;
      }
    } catch {
      return null;
    }
    await options.sleep(options.retryEveryMs ?? 25);
  }
  return null;
}
