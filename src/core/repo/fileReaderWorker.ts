// The reading side of the repository index's worker thread (started from dist/repoFileReader.js). On a cold index,
// reading 20,000 small files (open, fstat, read, close: each a trip into the kernel) and analysing them (content checks,
// chunk bounds, outline) cost about as much as counting their terms into the index; doing them on the second core while
// the main thread counts takes most of it off the wall time.
import type { MessagePort } from 'node:worker_threads';
import { analyseFile } from './fileAnalysis';
import {
  ENTRY_EXCLUDED,
  ENTRY_INDEXABLE,
  ENTRY_MISSING,
  ENTRY_TOO_LARGE,
  EXCLUSION_CODES,
  isReaderRequest,
} from './fileReaderProtocol';
import { LineStarts } from './lineStarts';
import type { ReaderReply, ReadFilesRequest } from './fileReaderProtocol';
import { readFileWithin, RootConfinement } from './nodeRepoFileSystem';

/** Serves `read` requests on `port` for files under `rootPath` (never through a symbolic link: `readFileWithin`). */
export function serveFileReads(rootPath: string, port: MessagePort): void {
  const root = new RootConfinement(rootPath);
  let credit = 0;
  /** Buffers the main thread handed back, filled again before any new one is made. */
  const spares: ArrayBuffer[] = [];
  let batchBytes = 0;
  const freshBatch = (): ArrayBuffer => spares.pop() ?? new ArrayBuffer(batchBytes);
  let wakeOnCredit: (() => void) | null = null;
  const send = (reply: ReaderReply, transfer: ArrayBuffer[] = []): void => port.postMessage(reply, transfer);
  port.on('message', (message: unknown) => {
    if (!isReaderRequest(message)) return;
    if (message.type === 'credit') {
      credit += 1;
      if (message.spare !== null && message.spare.byteLength === batchBytes) spares.push(message.spare);
      const wake = wakeOnCredit;
      wakeOnCredit = null;
      wake?.();
      return;
    }
    credit = message.credit;
    batchBytes = message.batchBytes;
    readAll(message).then(
      () => send({ type: 'done' }),
      (error: unknown) => send({ type: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
  });

  /**
   * Reads the files in order into batches of about `batchBytes`, sending each when the next file does not fit. A batch
   * is sent only with credit: the worker never reads more than `credit` batches ahead of the parser.
   */
  async function readAll(request: ReadFilesRequest): Promise<void> {
    const { paths, maxBytes } = request;
    let contents = freshBatch();
    let used = 0;
    let entries: number[] = [];
    let chunks: number[] = [];
    let outlines: string[] = [];
    const lines = new LineStarts();
    /** Folders checked for links during this request (each checked once, not once per file). */
    const checkedFolders = new Map<string, boolean>();
    /** Sends the batch being filled (when it holds anything) and goes on filling `next`. */
    const sendBatchAndFill = async (next: ArrayBuffer): Promise<void> => {
      if (entries.length > 0) {
        // Credits arrive as messages, which only run when this function waits: it waits only when it has none left.
        if (credit <= 0) await new Promise<void>((resolve) => (wakeOnCredit = resolve));
        credit -= 1;
        const packedEntries = Float64Array.from(entries);
        const packedChunks = Int32Array.from(chunks);
        send({ type: 'batch', contents, entries: packedEntries, chunks: packedChunks, outlines }, [
          contents,
          packedEntries.buffer,
          packedChunks.buffer,
        ]);
      } else if (contents.byteLength === batchBytes) {
        spares.push(contents);
      }
      contents = next;
      entries = [];
      chunks = [];
      outlines = [];
      used = 0;
    };
    for (const path of paths) {
      // A file that does not fit the current batch is read into the next one (a batch of its own when it is larger).
      const overflow: { buffer: ArrayBuffer | null } = { buffer: null };
      const place = (size: number): Uint8Array => {
        if (used + size <= contents.byteLength) return new Uint8Array(contents, used, size);
        overflow.buffer = size <= batchBytes ? freshBatch() : new ArrayBuffer(size);
        return new Uint8Array(overflow.buffer, 0, size);
      };
      const read = readFileWithin(root, path, maxBytes, place, checkedFolders);
      if (overflow.buffer !== null) await sendBatchAndFill(overflow.buffer);
      if (read.kind === 'ok') {
        const analysis = analyseFile(read.bytes, path, lines, chunks);
        if (analysis.kind === 'excluded') {
          entries.push(
            ENTRY_EXCLUDED,
            used,
            read.bytes.length,
            read.mtimeMs,
            0,
            0,
            EXCLUSION_CODES.indexOf(analysis.reason),
          );
        } else {
          entries.push(
            ENTRY_INDEXABLE,
            used,
            read.bytes.length,
            read.mtimeMs,
            analysis.lineCount,
            analysis.firstChunk,
            analysis.chunkCount,
          );
          outlines.push(analysis.symbolRecords, analysis.importRecords);
        }
        used += read.bytes.length;
      } else if (read.kind === 'too-large') {
        entries.push(ENTRY_TOO_LARGE, 0, read.sizeBytes, 0, 0, 0, 0);
      } else {
        entries.push(ENTRY_MISSING, 0, 0, 0, 0, 0, 0);
      }
    }
    await sendBatchAndFill(new ArrayBuffer(0));
  }
}
