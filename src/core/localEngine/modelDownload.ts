import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { isBackendError } from '../errors';
import { isRecord, tryParseJson } from '../json';
import type { HttpResponse, Transport } from '../stream/transport';
import { LocalEngineError } from './localEngineError';

/** What to download and how to check it. */
export interface ModelDownloadSpec {
  /** An http(s) URL given by the user (plain http only with `sha256`). */
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
  /** The most bytes accepted whatever the server says (`MAX_MODEL_BYTES` unless a test needs less). */
  readonly maxBytes?: number;
}

/** Progress is reported about every 1 MB: often enough for a smooth bar, rarely enough to cost nothing. */
const DEFAULT_PROGRESS_EVERY_BYTES = 1 << 20;
const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/**
 * The largest model downloaded, in bytes (64 GiB: above the largest GGUF a machine that runs this engine can load). A
 * server that sends no Content-Length, or more than it announced, is stopped there instead of filling the disk.
 */
export const MAX_MODEL_BYTES = 64 * 1024 ** 3;
/** Redirects followed (hosted models redirect once or twice: Hugging Face's resolve URL -> its CDN). */
export const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** What is remembered about a partial download: the URL, and the validators of the file it is a part of. */
interface PartInfo {
  readonly url: string;
  readonly etag: string | null;
  readonly lastModified: string | null;
}

/** What is remembered about a finished model: its SHA-256 as of this size and modification time. */
interface VerifiedInfo {
  readonly sha256: string;
  readonly bytes: number;
  readonly mtimeMs: number;
}

const partPathOf = (destination: string): string => `${destination}.part`;
const partInfoPathOf = (destination: string): string => `${destination}.part.json`;
const verifiedPathOf = (destination: string): string => `${destination}.verified.json`;

/** A URL as shown in messages: origin and path, without the query (signed CDN URLs carry tokens there). */
function shown(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

async function readJsonRecord(path: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed = tryParseJson(await readFile(path, 'utf8'));
    return isRecord(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

const stringOrNull = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

async function readPartInfo(destination: string): Promise<PartInfo | null> {
  const record = await readJsonRecord(partInfoPathOf(destination));
  const url = stringOrNull(record?.['url']);
  if (record === null || url === null) return null;
  return { url, etag: stringOrNull(record['etag']), lastModified: stringOrNull(record['lastModified']) };
}

async function readVerifiedInfo(destination: string): Promise<VerifiedInfo | null> {
  const record = await readJsonRecord(verifiedPathOf(destination));
  const sha256 = stringOrNull(record?.['sha256']);
  const bytes = record?.['bytes'];
  const mtimeMs = record?.['mtimeMs'];
  if (sha256 === null || typeof bytes !== 'number' || typeof mtimeMs !== 'number') return null;
  return { sha256, bytes, mtimeMs };
}

/** Remembers a file's SHA-256 for its current size and mtime. Best effort: without it the next check hashes again. */
async function rememberVerified(destination: string, sha256: string): Promise<void> {
  try {
    const info = await stat(destination);
    const record: VerifiedInfo = { sha256, bytes: info.size, mtimeMs: info.mtimeMs };
    await writeFile(verifiedPathOf(destination), JSON.stringify(record));
  } catch {
    // A read-only folder: the model is still usable.
  }
}

/** The `If-Range` value for a part: a strong ETag, else Last-Modified (weak ETags are not allowed there); null: none. */
function ifRangeValidator(info: PartInfo): string | null {
  if (info.etag !== null && !info.etag.startsWith('W/')) return info.etag;
  return info.lastModified;
}

/**
 * The model URL, checked: http(s) only, and plain http only with a SHA-256 (anyone on the network path could otherwise
 * swap the file the engine loads). Throws `download-failed` with what to do.
 */
function checkModelUrl(url: string, hasSha: boolean): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new LocalEngineError(
      'download-failed',
      `The model URL ${url} is not a URL. Set latencyCopilot.localEngine.modelUrl to the https:// address of a GGUF file.`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new LocalEngineError(
      'download-failed',
      `The model URL ${shown(parsed)} is not http(s). Set latencyCopilot.localEngine.modelUrl to the https:// address of a GGUF file.`,
    );
  }
  if (parsed.protocol === 'http:' && !hasSha) {
    throw new LocalEngineError(
      'download-failed',
      `The model URL ${shown(parsed)} is plain http, so the file could be swapped on the way: use its https:// address, or set latencyCopilot.localEngine.modelSha256 to the file's SHA-256.`,
    );
  }
  return parsed;
}

/** Where a redirect may lead: http(s) only, and from https down to http only when a SHA-256 will check the file. */
function checkRedirect(from: URL, location: string | undefined, hasSha: boolean): URL {
  if (location === undefined || location === '')
    throw new LocalEngineError(
      'download-failed',
      `The model download at ${shown(from)} redirected without saying where.`,
    );
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new LocalEngineError(
      'download-failed',
      `The model download at ${shown(from)} redirected to an address that is not a URL.`,
    );
  }
  if (next.protocol !== 'https:' && next.protocol !== 'http:') {
    throw new LocalEngineError(
      'download-failed',
      `The model download at ${shown(from)} redirected to a ${next.protocol} address; only http(s) redirects are followed.`,
    );
  }
  if (next.protocol === 'http:' && from.protocol === 'https:' && !hasSha) {
    throw new LocalEngineError(
      'download-failed',
      `The model download at ${shown(from)} redirected from https to plain http (${next.origin}): set latencyCopilot.localEngine.modelSha256 to the file's SHA-256 so the file is checked, or use an address that stays on https.`,
    );
  }
  return next;
}

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
 * GETs `url`, following up to `MAX_REDIRECTS` redirects. Each hop sends only the download's own headers (accept, and
 * range/if-range when resuming): no credentials, and cookies a redirect sets are never sent back.
 */
async function requestFollowingRedirects(
  transport: Transport,
  url: URL,
  headers: Readonly<Record<string, string>>,
  hasSha: boolean,
  options: DownloadOptions,
): Promise<HttpResponse> {
  let current = url;
  for (let redirects = 0; ; redirects++) {
    let response: HttpResponse;
    try {
      response = await transport.request({
        url: current.href,
        method: 'GET',
        headers,
        signal: options.signal,
        idleTimeoutMs: options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      throw new LocalEngineError('download-failed', `Could not reach ${shown(current)} to download the model.`, {
        cause: error,
      });
    }
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    const location = response.headers['location'];
    await discard(response);
    if (redirects === MAX_REDIRECTS) {
      throw new LocalEngineError(
        'download-failed',
        `The model download at ${shown(url)} redirected more than ${MAX_REDIRECTS} times. Set latencyCopilot.localEngine.modelUrl to the file's final address.`,
      );
    }
    current = checkRedirect(current, location, hasSha);
  }
}

/** A download attempt found that the part on disk cannot be continued: the caller starts over once. */
const RESTART = Symbol('restart');

/**
 * Downloads a model file through the extension's transport (so proxies apply), following redirects. An interrupted
 * attempt resumes with `Range` + `If-Range` (the ETag, else Last-Modified, of the file the part came from): a server
 * whose file changed answers 200 and the download starts from zero, so two versions are never spliced; a part with no
 * validator is not resumed. The size is capped (`maxBytes`, and the server's own Content-Length). The file is renamed
 * into place only after its size and SHA-256 (when given) are verified, so a half or wrong file never looks finished;
 * its SHA-256 is then remembered next to it (`checkExistingModel`). Throws `LocalEngineError` (`download-failed`,
 * `size-mismatch`, `checksum-mismatch`), or the transport's `aborted` BackendError when `signal` aborts (the partial
 * file stays for the next attempt).
 */
export async function downloadModel(
  transport: Transport,
  spec: ModelDownloadSpec,
  options: DownloadOptions = {},
): Promise<DownloadedModel> {
  const sha256 = spec.sha256 ? spec.sha256.toLowerCase() : null;
  const url = checkModelUrl(spec.url, sha256 !== null);
  const first = await attemptDownload(transport, spec, url, sha256, options, true);
  if (first !== RESTART) return first;
  const second = await attemptDownload(transport, spec, url, sha256, options, false);
  if (second === RESTART)
    throw new LocalEngineError('download-failed', 'The model download could not start. Try again.');
  return second;
}

async function attemptDownload(
  transport: Transport,
  spec: ModelDownloadSpec,
  url: URL,
  sha256: string | null,
  options: DownloadOptions,
  mayResume: boolean,
): Promise<DownloadedModel | typeof RESTART> {
  const partPath = partPathOf(spec.destination);
  const stored = mayResume ? await readPartInfo(spec.destination) : null;
  const validator = stored !== null && stored.url === spec.url ? ifRangeValidator(stored) : null;
  const partBytes = validator === null ? 0 : await sizeOf(partPath);
  const headers: Record<string, string> = { accept: 'application/octet-stream' };
  if (validator !== null && partBytes > 0) {
    headers['range'] = `bytes=${partBytes}-`;
    headers['if-range'] = validator;
  }
  const response = await requestFollowingRedirects(transport, url, headers, sha256 !== null, options);

  const hash = createHash('sha256');
  let totalBytes: number | null;
  let resumedFromBytes = 0;
  if (response.status === 206 && partBytes > 0) {
    const range = totalFromContentRange(response.headers['content-range']);
    if (range === null || range.start !== partBytes) {
      await discard(response);
      throw new LocalEngineError(
        'download-failed',
        `The server answered the resume request with an unexpected range (${response.headers['content-range'] ?? 'none'}).`,
      );
    }
    // A server that ignores If-Range still names the file it sends: another ETag is another file.
    const etag = response.headers['etag'];
    if (stored?.etag && etag !== undefined && etag !== stored.etag) {
      await discard(response);
      await forgetPart(spec.destination);
      return RESTART;
    }
    totalBytes = range.total;
    resumedFromBytes = partBytes;
    await hashFileInto(partPath, hash);
  } else if (response.status === 416 && partBytes > 0) {
    // The part is as long as the file or longer: it cannot be trusted; start from zero.
    await discard(response);
    await forgetPart(spec.destination);
    return RESTART;
  } else if (response.status === 200) {
    // A first attempt, a server without ranges, or (If-Range) a file that changed since the part: from zero.
    const length = Number(response.headers['content-length']);
    totalBytes = Number.isFinite(length) && length > 0 ? length : null;
    const info: PartInfo = {
      url: spec.url,
      etag: response.headers['etag'] ?? null,
      lastModified: response.headers['last-modified'] ?? null,
    };
    await writeFile(partInfoPathOf(spec.destination), JSON.stringify(info));
  } else {
    await discard(response);
    throw new LocalEngineError(
      'download-failed',
      `The model download failed with HTTP ${response.status} from ${shown(url)}.`,
    );
  }

  const maxBytes = options.maxBytes ?? MAX_MODEL_BYTES;
  if (totalBytes !== null && totalBytes > maxBytes) {
    await discard(response);
    await forgetPart(spec.destination);
    throw new LocalEngineError(
      'size-mismatch',
      `The model at ${shown(url)} is ${totalBytes} bytes, over the ${maxBytes} bytes the extension downloads.`,
    );
  }
  // Never more than the cap, nor than the server announced: a stream that goes on is stopped, not stored.
  const limit = Math.min(maxBytes, totalBytes ?? Number.POSITIVE_INFINITY);
  const file = await open(partPath, resumedFromBytes > 0 ? 'a' : 'w');
  let received = resumedFromBytes;
  let reportedAt = received;
  let overLimit = false;
  const every = options.progressEveryBytes ?? DEFAULT_PROGRESS_EVERY_BYTES;
  try {
    for await (const chunk of response.body) {
      if (received + chunk.length > limit) {
        overLimit = true;
        break;
      }
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
    throw new LocalEngineError(
      'download-failed',
      `The model download broke off at ${received} bytes; it resumes from there next time.`,
      { cause: error },
    );
  } finally {
    await file.close();
    response.dispose();
  }
  if (overLimit) {
    await forgetPart(spec.destination);
    const why =
      totalBytes !== null && totalBytes < maxBytes ? 'what the server announced' : 'the most the extension downloads';
    throw new LocalEngineError(
      'size-mismatch',
      `The model download from ${shown(url)} went past ${limit} bytes (${why}); it was stopped and removed.`,
    );
  }
  options.onProgress?.({ receivedBytes: received, totalBytes });

  const expected = spec.expectedBytes ?? totalBytes;
  if (expected !== null && received !== expected) {
    if (received > expected) await forgetPart(spec.destination);
    throw new LocalEngineError(
      'size-mismatch',
      `The downloaded model has ${received} bytes; ${expected} were expected.`,
    );
  }
  const actual = hash.digest('hex');
  if (sha256 !== null && sha256 !== actual) {
    await forgetPart(spec.destination);
    throw new LocalEngineError(
      'checksum-mismatch',
      `The downloaded model's SHA-256 is ${actual}; ${sha256} was expected. The file was removed.`,
    );
  }
  await rename(partPath, spec.destination);
  await rm(partInfoPathOf(spec.destination), { force: true });
  await rememberVerified(spec.destination, actual);
  return { path: spec.destination, bytes: received, sha256: actual, resumedFromBytes };
}

/** Removes a partial download and what was remembered about it. */
async function forgetPart(destination: string): Promise<void> {
  await rm(partPathOf(destination), { force: true });
  await rm(partInfoPathOf(destination), { force: true });
}

/** What is known about a model file already at the destination. */
export type ExistingModelCheck =
  | { readonly kind: 'missing' }
  /** Usable: it has the configured SHA-256, or none is configured. `hashed`: it had to be read whole to know. */
  | { readonly kind: 'reusable'; readonly hashed: boolean }
  /** It is another file than the configured SHA-256 names (an older download, or a new SHA for a new version). */
  | { readonly kind: 'mismatch'; readonly sha256: string; readonly hashed: boolean };

/**
 * Checks a model already downloaded against the SHA-256 configured now (it may have changed since the download). A
 * file of several GB is hashed once: its SHA-256 is remembered next to it (`<file>.verified.json`) with its size and
 * mtime, and read again only when either changes. With no SHA-256 configured there is nothing to check.
 */
export async function checkExistingModel(destination: string, sha256: string | null): Promise<ExistingModelCheck> {
  let size: number;
  let mtimeMs: number;
  try {
    const info = await stat(destination);
    if (!info.isFile()) return { kind: 'missing' };
    size = info.size;
    mtimeMs = info.mtimeMs;
  } catch {
    return { kind: 'missing' };
  }
  if (sha256 === null || sha256 === '') return { kind: 'reusable', hashed: false };
  const remembered = await readVerifiedInfo(destination);
  let actual: string;
  let hashed = false;
  if (remembered !== null && remembered.bytes === size && remembered.mtimeMs === mtimeMs) {
    actual = remembered.sha256;
  } else {
    const hash = createHash('sha256');
    await hashFileInto(destination, hash);
    actual = hash.digest('hex');
    hashed = true;
    // Remembered for the size and mtime seen before hashing: a file changed meanwhile is hashed again next time.
    try {
      const record: VerifiedInfo = { sha256: actual, bytes: size, mtimeMs };
      await writeFile(verifiedPathOf(destination), JSON.stringify(record));
    } catch {
      // A read-only folder: it is hashed again next time.
    }
  }
  return actual === sha256.toLowerCase() ? { kind: 'reusable', hashed } : { kind: 'mismatch', sha256: actual, hashed };
}
