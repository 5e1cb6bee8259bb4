import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringAt } from '../json';

/** A file opened for reading: its size when it was opened, and reads of byte ranges. */
export interface ReadableTextFile {
  /** The size in bytes when the file was opened (appends made later are not read). */
  readonly size: number;
  /** Reads `length` bytes from `position` (fewer only at the end of the file). */
  read(position: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/**
 * A file opened for appending. Every `append` lands whole at the end of the file, whoever else appends to it at the same
 * time (O_APPEND: the position is taken and written in one step by the operating system).
 */
export interface AppendableTextFile {
  /** The size in bytes when the file was opened: 0 for a file just created. */
  readonly size: number;
  /** True when the file is empty or its last byte is a newline (false after a crash mid-line). */
  readonly endsWithNewline: boolean;
  /** Appends the bytes in one write. */
  append(data: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

/**
 * The small file-system seam the speed history works through, so that its logic runs in tests against an in-memory
 * fake or a temp folder. Paths are absolute. Several VS Code windows (processes) use the same files at once.
 */
export interface TextFiles {
  /** Opens a file for reading, or null when it does not exist. Throws when it exists but cannot be read. */
  openRead(path: string): Promise<ReadableTextFile | null>;
  /** Opens a file for appending, creating it (and its folder) when missing. */
  openAppend(path: string): Promise<AppendableTextFile>;
  /** Replaces the file's content so that a crash leaves either the old or the new content, never half of each. */
  writeAtomic(path: string, content: string): Promise<void>;
  rename(fromPath: string, toPath: string): Promise<void>;
  /** Creates a file with this content only if none exists (atomic): true when created, false when it was there. */
  createExclusive(path: string, content: string): Promise<boolean>;
  /** The file's last modification time (wall clock, ms since the epoch), or null when it does not exist. */
  modifiedAtMs(path: string): Promise<number | null>;
  /** Deletes a file; one that is already gone is fine. */
  remove(path: string): Promise<void>;
}

function errorCode(error: unknown): string | undefined {
  return stringAt(error, 'code');
}

/** `TextFiles` over node:fs (the adapter points it at the extension's global storage folder). */
export const nodeTextFiles: TextFiles = {
  async openRead(path) {
    let opened: FileHandle;
    try {
      opened = await open(path, 'r');
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
    let size: number;
    try {
      size = (await opened.stat()).size;
    } catch (error) {
      await opened.close();
      throw error;
    }
    return {
      size,
      async read(position, length) {
        const buffer = Buffer.alloc(Math.max(0, length));
        let filled = 0;
        while (filled < buffer.length) {
          const { bytesRead } = await opened.read(buffer, filled, buffer.length - filled, position + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      },
      close: () => opened.close(),
    };
  },
  async openAppend(path) {
    await mkdir(dirname(path), { recursive: true });
    // 'a+' appends every write at the end (O_APPEND) and still lets the last byte be read.
    const handle = await open(path, 'a+');
    try {
      const { size } = await handle.stat();
      let endsWithNewline = true;
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        endsWithNewline = last[0] === 0x0a;
      }
      return {
        size,
        endsWithNewline,
        async append(data) {
          // One write call for the whole batch, so that another window's batch never lands in the middle of it.
          // A short write (a full disk) throws rather than leaving half a line for the next write to continue.
          const { bytesWritten } = await handle.write(data, 0, data.length);
          if (bytesWritten !== data.length)
            throw Object.assign(new Error(`short write: ${bytesWritten} of ${data.length} bytes`), { code: 'ENOSPC' });
        },
        close: () => handle.close(),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  },
  async writeAtomic(path, content) {
    await mkdir(dirname(path), { recursive: true });
    // A name of its own per writer, so two processes never write the same temporary file.
    const temporaryPath = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await writeFile(temporaryPath, content, 'utf8');
      await rename(temporaryPath, path);
    } catch (error) {
      await unlink(temporaryPath).catch(() => undefined);
      throw error;
    }
  },
  async rename(fromPath, toPath) {
    await rename(fromPath, toPath);
  },
  async createExclusive(path, content) {
    await mkdir(dirname(path), { recursive: true });
    try {
      await writeFile(path, content, { encoding: 'utf8', flag: 'wx' });
      return true;
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return false;
      throw error;
    }
  },
  async modifiedAtMs(path) {
    try {
      return (await stat(path)).mtimeMs;
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return null;
      throw error;
    }
  },
  async remove(path) {
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  },
};
