import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { isBackendError } from '../errors';
import type { HttpResponse, Transport } from '../transport';
import { LocalEngineError } from './localEngineError';

/** What to download and how to check it. */
export interface ModelDownloadSpec {
  /** An http(s) URL given by the user. */
  readonly url: string;
  /** Where the finished model goes; the partial download lives next to it as `<destination>.part`. */
  readonly destination: string;
  /** The expected size in bytes, when known (verified at the end). */
  readonly expectedBytes?: number | null;
  /** The expected SHA-256 in hex, when known (verified at the end). */
  readonly sha256?: string | null;
}

/** How far a download has come; `totalBytes` is null when the server does not say. */
export interface DownloadProgress {
  readonly receivedBytes: number;
  readonly totalBytes: number | null;
}

/** A finished, verified download. */
export interface DownloadedModel {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Bytes that came from an earlier, interrupted attempt (0 when it started from scratch). */
  readonly resumedFromBytes: number;
}

/** Options of `downloadModel`. */
export interface DownloadOptions {
  readonly signal?: AbortSignal;
  /** Called as bytes arrive (at most every `progressEveryBytes`), and once at the end. */
  readonly onProgress?: (progress: DownloadProgress) => void;
  readonly progressEveryBytes?: number;
  /** Max silence while downloading, in ms. */
  readonly idleTimeoutMs?: number;
}

/** Progress is reported about every 1 MB: often enough for a smooth bar, rarely enough to cost nothing. */
const DEFAULT_PROGRESS_EVERY_BYTES = 1 << 20;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

async function hashFileInto(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    if (chunk instanceof Buffer) hash.update(chunk);
  }
}

/**
 * Reads and drops a short error body, then releases the response. Disposing an unread body makes undici raise an
 * unhandled abort error, and draining keeps the connection reusable.
 */
async function discard(response: HttpResponse): Promise<void> {
  let bytes = 0;
  try {
    for await (const chunk of response.body) {
      bytes += chunk.length;
      if (bytes > 65_536) break;
    }
  } catch {
    // The status already says what went wrong.
  } finally {
    response.dispose();
  }
}

/** The total size from `Content-Range: bytes 100-999/1000`, or null (`*` or absent). */
export function totalFromContentRange(value: string | undefined): { start: number; total: number | null } | null {
  if (value === undefined) return null;
  const match = /^bytes\s+(\d+)-\d+\/(\d+|\*)$/.exec(value.trim());
  if (!match) return null;
  return { start: Number(match[1]), total: match[2] === '*' ? null : Number(match[2]) };
}

/**
 * Downloads a model file through the extension's transport (so proxies apply), resuming an interrupted attempt with an
 * HTTP Range request when the server supports it (206), starting over when it does not (200). The file is renamed into
 * place only after its size and SHA-256 (when given) are verified, so a half or wrong file never looks finished.
 * Throws `LocalEngineError` (`download-failed`, `size-mismatch`, `checksum-mismatch`), or the transport's `aborted`
 * BackendError when `signal` aborts (the partial file stays for the next attempt).
 */
export async function downloadModel(transport: Transport, spec: ModelDownloadSpec, options: DownloadOptions = {}): Promise<DownloadedModel> {
  const partPath = `${spec.destination}.part`;
  const hash = createHash('sha256');
  let have = await sizeOf(partPath);
  const headers: Record<string, string> = { accept: 'application/octet-stream' };
  if (have > 0) headers['range'] = `bytes=${have}-`;

  let response: HttpResponse;
  try {
    response = await transport.request({
      url: spec.url,
      method: 'GET',
      headers,
      signal: options.signal,
      idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new LocalEngineError('download-failed', `Could not reach ${spec.url} to download the model.`, { cause: error });
  }

  let totalBytes: number | null = null;
  let resumedFromBytes = 0;
  if (response.status === 206 && have > 0) {
    const range = totalFromContentRange(response.headers['content-range']);
    if (range === null || range.start !== have) {
      await discard(response);
      throw new LocalEngineError('download-failed', `The server answered the resume request with an unexpected range (${response.headers['content-range'] ?? 'none'}).`);
    }
    totalBytes = range.total;
    resumedFromBytes = have;
    await hashFileInto(partPath, hash);
  } else if (response.status === 200 || (response.status === 416 && have > 0)) {
    if (response.status === 416) {
      // The part file is longer than (or as long as) the resource: it cannot be trusted; start again next time.
      await discard(response);
      await rm(partPath, { force: true });
      throw new LocalEngineError('download-failed', 'The partial download does not fit the file on the server; it was removed. Try again.');
    }
    // No range support (or nothing to resume): start from zero.
    have = 0;
    const length = Number(response.headers['content-length']);
    totalBytes = Number.isFinite(length) && length > 0 ? length : null;
  } else {
    await discard(response);
    throw new LocalEngineError('download-failed', `The model download failed with HTTP ${response.status} from ${spec.url}.`);
  }

  const file = await open(partPath, have > 0 ? 'a' : 'w');
  let received = have;
  let reportedAt = received;
  const every = options.progressEveryBytes ?? DEFAULT_PROGRESS_EVERY_BYTES;
  try {
    for await (const chunk of response.body) {
      await file.write(chunk);
      hash.update(chunk);
      received += chunk.length;
      if (received - reportedAt >= every) {
        reportedAt = received;
        options.onProgress?.({ receivedBytes: received, totalBytes });
      }
    }
  } catch (error) {
    if (isBackendError(error) && error.reason === 'aborted') throw error;
    throw new LocalEngineError('download-failed', `The model download broke off at ${received} bytes; it resumes from there next time.`, { cause: error });
  } finally {
    await file.close();
    response.dispose();
  }
  options.onProgress?.({ receivedBytes: received, totalBytes });

  const expected = spec.expectedBytes ?? totalBytes;
  if (expected !== null && received !== expected) {
    if (received > expected) await rm(partPath, { force: true });
    throw new LocalEngineError('size-mismatch', `The downloaded model has ${received} bytes; ${expected} were expected.`);
  }
  const sha256 = hash.digest('hex');
  if (spec.sha256 && spec.sha256.toLowerCase() !== sha256) {
    await rm(partPath, { force: true });
    throw new LocalEngineError('checksum-mismatch', `The downloaded model's SHA-256 is ${sha256}; ${spec.sha256} was expected. The file was removed.`);
  }
  await rename(partPath, spec.destination);
  return { path: spec.destination, bytes: received, sha256, resumedFromBytes };
}
