import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngineError } from '../../../../src/core/localEngine/localEngineError';
import {
  checkExistingModel,
  downloadModel,
  totalFromContentRange,
} from '../../../../src/core/localEngine/modelDownload';
import type { DownloadProgress } from '../../../../src/core/localEngine/modelDownload';
import { createTransport } from '../../../../src/core/stream/transport';
import type { HttpRequest, HttpResponse, Transport } from '../../../../src/core/stream/transport';

const MODEL = randomBytes(300_000);
const MODEL_SHA = createHash('sha256').update(MODEL).digest('hex');
/** A second version of the file at the same URL (a new upload): same size, other bytes. */
const MODEL_V2 = randomBytes(300_000);
const MODEL_V2_SHA = createHash('sha256').update(MODEL_V2).digest('hex');

interface ServerBehaviour {
  /** Honour Range requests with 206 (else always 200 with the whole file). */
  ranges: boolean;
  /** Destroy the connection after sending this many body bytes (simulates a broken download). */
  cutAfter: number | null;
  status: number;
  /** The file served, and its validators (null: the header is not sent). */
  body: Buffer;
  etag: string | null;
  lastModified: string | null;
  /** Send no Content-Length (chunked), as a server streaming a file of unknown size does. */
  chunked: boolean;
}

const DEFAULT_BEHAVIOUR: ServerBehaviour = {
  ranges: true,
  cutAfter: null,
  status: 200,
  body: MODEL,
  etag: '"v1"',
  lastModified: null,
  chunked: false,
};

describe('downloadModel', () => {
  let server: Server;
  let url = '';
  let transport: Transport;
  let dir = '';
  const behaviour: ServerBehaviour = { ...DEFAULT_BEHAVIOUR };
  const rangesSeen: (string | undefined)[] = [];
  /** Every request's headers, per path, in order. */
  const seen: { path: string; headers: IncomingHttpHeaders }[] = [];

  function serve(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '';
    seen.push({ path, headers: request.headers });
    // Redirect chains as hosted model URLs use them (Hugging Face resolve -> CDN): /hop/3 -> /hop/2 -> /hop/1 -> /model.gguf.
    const hop = /^\/hop\/(\d+)$/.exec(path);
    if (hop) {
      const left = Number(hop[1]) - 1;
      response
        .writeHead(302, {
          location: left === 0 ? '/model.gguf' : `/hop/${left}`,
          'set-cookie': 'session=from-the-redirect',
        })
        .end();
      return;
    }
    if (path === '/loop') {
      response.writeHead(307, { location: '/loop' }).end();
      return;
    }
    if (path === '/to-file') {
      response.writeHead(302, { location: 'file:///etc/passwd' }).end();
      return;
    }
    if (path !== '/model.gguf') {
      response.writeHead(404).end();
      return;
    }
    rangesSeen.push(request.headers.range);
    if (behaviour.status !== 200) {
      response.writeHead(behaviour.status).end('nope');
      return;
    }
    const file = behaviour.body;
    const validators: Record<string, string> = {};
    if (behaviour.etag !== null) validators['etag'] = behaviour.etag;
    if (behaviour.lastModified !== null) validators['last-modified'] = behaviour.lastModified;
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    // If-Range as RFC 9110 says: the range only when the validator still matches, else the whole (new) file.
    const ifRange = request.headers['if-range'];
    const rangeStillValid = ifRange === undefined || ifRange === behaviour.etag || ifRange === behaviour.lastModified;
    if (behaviour.ranges && range && rangeStillValid) {
      start = Number(range[1]);
      if (start >= file.length) {
        response.writeHead(416, { 'content-range': `bytes */${file.length}` }).end();
        return;
      }
      response.writeHead(206, {
        ...validators,
        'content-range': `bytes ${start}-${file.length - 1}/${file.length}`,
        ...(behaviour.chunked ? {} : { 'content-length': String(file.length - start) }),
      });
    } else {
      response.writeHead(200, {
        ...validators,
        ...(behaviour.chunked ? {} : { 'content-length': String(file.length) }),
      });
    }
    const body = file.subarray(start);
    if (behaviour.cutAfter !== null) {
      // Destroyed a moment after the write, so the first bytes reach the client before the reset.
      response.write(body.subarray(0, behaviour.cutAfter), () => setTimeout(() => response.destroy(), 150));
      return;
    }
    response.end(body);
  }

  beforeAll(async () => {
    server = createServer(serve);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.gguf`;
    transport = createTransport();
    dir = mkdtempSync(join(tmpdir(), 'model-download-'));
  });

  afterEach(() => {
    Object.assign(behaviour, DEFAULT_BEHAVIOUR);
    rangesSeen.length = 0;
    seen.length = 0;
    rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), 'model-download-'));
  });

  afterAll(async () => {
    await transport.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads, verifies size and SHA-256, reports progress, and renames into place', async () => {
    const destination = join(dir, 'm.gguf');
    const progress: DownloadProgress[] = [];
    const result = await downloadModel(
      transport,
      { url, destination, expectedBytes: MODEL.length, sha256: MODEL_SHA },
      { onProgress: (step) => progress.push(step), progressEveryBytes: 64_000 },
    );
    expect(result).toEqual({ path: destination, bytes: MODEL.length, sha256: MODEL_SHA, resumedFromBytes: 0 });
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
    expect(existsSync(`${destination}.part`)).toBe(false);
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toEqual({ receivedBytes: MODEL.length, totalBytes: MODEL.length });
    const received = progress.map((step) => step.receivedBytes);
    expect([...received].sort((a, b) => a - b)).toEqual(received);
  });

  it('resumes a broken download with a Range request and still verifies the whole file', async () => {
    const destination = join(dir, 'm.gguf');
    behaviour.cutAfter = 100_000;
    const broken = await downloadModel(transport, { url, destination, sha256: MODEL_SHA }).catch(
      (error: unknown) => error,
    );
    expect(broken instanceof LocalEngineError && broken.reason).toBe('download-failed');
    expect(existsSync(destination)).toBe(false);
    const partial = readFileSync(`${destination}.part`).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(MODEL.length);

    behaviour.cutAfter = null;
    const result = await downloadModel(transport, { url, destination, sha256: MODEL_SHA });
    expect(rangesSeen.at(-1)).toBe(`bytes=${partial}-`);
    expect(seen.at(-1)?.headers['if-range']).toBe('"v1"');
    expect(result.resumedFromBytes).toBe(partial);
    expect(result.sha256).toBe(MODEL_SHA);
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
  });

  it('starts over when the server ignores Range (200)', async () => {
    const destination = join(dir, 'm.gguf');
    writeFileSync(`${destination}.part`, MODEL.subarray(0, 5000));
    behaviour.ranges = false;
    writeFileSync(`${destination}.part.json`, JSON.stringify({ url, etag: '"v1"', lastModified: null }));
    const result = await downloadModel(transport, { url, destination, expectedBytes: MODEL.length, sha256: MODEL_SHA });
    expect(rangesSeen).toEqual(['bytes=5000-']);
    expect(result.resumedFromBytes).toBe(0);
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
  });

  it('rejects a wrong checksum and removes the file, so the next attempt starts clean', async () => {
    const destination = join(dir, 'm.gguf');
    const error = await downloadModel(transport, { url, destination, sha256: '0'.repeat(64) }).catch(
      (caught: unknown) => caught,
    );
    expect(error instanceof LocalEngineError && error.reason).toBe('checksum-mismatch');
    expect(existsSync(destination)).toBe(false);
    expect(existsSync(`${destination}.part`)).toBe(false);
  });

  it('rejects a size that differs from the expected one', async () => {
    const destination = join(dir, 'm.gguf');
    const error = await downloadModel(transport, {
      url,
      destination,
      expectedBytes: MODEL.length + 1,
      sha256: MODEL_SHA,
    }).catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('size-mismatch');
    expect(existsSync(destination)).toBe(false);
  });

  it('says download-failed with the status on an HTTP error', async () => {
    behaviour.status = 404;
    const error = await downloadModel(transport, { url, destination: join(dir, 'm.gguf'), sha256: MODEL_SHA }).catch(
      (caught: unknown) => caught,
    );
    expect(error instanceof LocalEngineError && error.reason).toBe('download-failed');
    expect(error instanceof Error && error.message).toContain('HTTP 404');
  });

  // Issue 14, item 9.
  it('resumes with If-Range: when the file changed on the server (200), it starts from zero instead of splicing two versions', async () => {
    const destination = join(dir, 'm.gguf');
    behaviour.cutAfter = 100_000;
    await downloadModel(transport, { url, destination, sha256: MODEL_V2_SHA }).catch(() => undefined);
    const partial = readFileSync(`${destination}.part`).length;
    expect(partial).toBeGreaterThan(0);
    Object.assign(behaviour, { cutAfter: null, body: MODEL_V2, etag: '"v2"' });
    const result = await downloadModel(transport, { url, destination, sha256: MODEL_V2_SHA });
    expect(seen.at(-1)?.headers['if-range']).toBe('"v1"');
    expect(result.resumedFromBytes).toBe(0);
    expect(result.sha256).toBe(MODEL_V2_SHA);
    expect(readFileSync(destination).equals(MODEL_V2)).toBe(true);
  });

  it('resumes on Last-Modified when there is no ETag, and not at all when the server gave neither', async () => {
    const destination = join(dir, 'm.gguf');
    Object.assign(behaviour, { cutAfter: 100_000, etag: null, lastModified: 'Wed, 21 Oct 2015 07:28:00 GMT' });
    await downloadModel(transport, { url, destination, sha256: MODEL_SHA }).catch(() => undefined);
    behaviour.cutAfter = null;
    const resumed = await downloadModel(transport, { url, destination, sha256: MODEL_SHA });
    expect(seen.at(-1)?.headers['if-range']).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(resumed.resumedFromBytes).toBeGreaterThan(0);

    const other = join(dir, 'other.gguf');
    Object.assign(behaviour, { cutAfter: 100_000, etag: null, lastModified: null });
    await downloadModel(transport, { url, destination: other, sha256: MODEL_SHA }).catch(() => undefined);
    expect(existsSync(`${other}.part`)).toBe(true);
    behaviour.cutAfter = null;
    const fresh = await downloadModel(transport, { url, destination: other, sha256: MODEL_SHA });
    // Nothing tells whether the part is still the same file: no Range is sent.
    expect(seen.at(-1)?.headers.range).toBeUndefined();
    expect(fresh.resumedFromBytes).toBe(0);
    expect(readFileSync(other).equals(MODEL)).toBe(true);
  });

  it('caps a download with no Content-Length, and refuses a Content-Length over the cap before reading', async () => {
    const destination = join(dir, 'm.gguf');
    behaviour.chunked = true;
    const endless = await downloadModel(
      transport,
      { url, destination, sha256: MODEL_SHA },
      { maxBytes: 100_000 },
    ).catch((caught: unknown) => caught);
    expect(endless instanceof LocalEngineError && endless.reason).toBe('size-mismatch');
    expect(endless instanceof Error && endless.message).toContain('100000');
    expect(existsSync(`${destination}.part`)).toBe(false);
    expect(existsSync(destination)).toBe(false);

    behaviour.chunked = false;
    const announced = await downloadModel(
      transport,
      { url, destination, sha256: MODEL_SHA },
      { maxBytes: MODEL.length - 1 },
    ).catch((caught: unknown) => caught);
    expect(announced instanceof LocalEngineError && announced.reason).toBe('size-mismatch');
    expect(existsSync(`${destination}.part`) ? readFileSync(`${destination}.part`).length : 0).toBe(0);
  });

  it('refuses plain http without a SHA-256 before sending anything, and says what to do', async () => {
    const error = await downloadModel(transport, { url, destination: join(dir, 'm.gguf') }).catch(
      (caught: unknown) => caught,
    );
    expect(error instanceof LocalEngineError && error.reason).toBe('download-failed');
    expect(error instanceof Error && error.message).toMatch(/https/);
    expect(error instanceof Error && error.message).toContain('latencyCopilot.localEngine.modelSha256');
    expect(seen).toEqual([]);
    const other = await downloadModel(transport, {
      url: 'ftp://127.0.0.1/model.gguf',
      destination: join(dir, 'm.gguf'),
      sha256: MODEL_SHA,
    }).catch((caught: unknown) => caught);
    expect(other instanceof LocalEngineError && other.reason).toBe('download-failed');
  });

  it('follows redirects (302 to a CDN) without forwarding cookies or credentials, at most 5, only to http(s)', async () => {
    const destination = join(dir, 'm.gguf');
    const hopsUrl = url.replace('/model.gguf', '/hop/3');
    const result = await downloadModel(transport, { url: hopsUrl, destination, sha256: MODEL_SHA });
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
    expect(result.sha256).toBe(MODEL_SHA);
    expect(seen.map((request) => request.path)).toEqual(['/hop/3', '/hop/2', '/hop/1', '/model.gguf']);
    for (const request of seen) {
      expect(request.headers.cookie).toBeUndefined();
      expect(request.headers.authorization).toBeUndefined();
    }

    const loop = await downloadModel(transport, {
      url: url.replace('/model.gguf', '/loop'),
      destination,
      sha256: MODEL_SHA,
    }).catch((caught: unknown) => caught);
    expect(loop instanceof LocalEngineError && loop.reason).toBe('download-failed');
    expect(loop instanceof Error && loop.message).toMatch(/redirect/);
    expect(seen.filter((request) => request.path === '/loop')).toHaveLength(6);

    const toFile = await downloadModel(transport, {
      url: url.replace('/model.gguf', '/to-file'),
      destination,
      sha256: MODEL_SHA,
    }).catch((caught: unknown) => caught);
    expect(toFile instanceof LocalEngineError && toFile.reason).toBe('download-failed');
    expect(toFile instanceof Error && toFile.message).toMatch(/http/);
  });

  it('refuses a redirect from https down to http unless a SHA-256 is set', async () => {
    // No TLS server here: a transport that answers the https URL with a redirect to the local http server.
    const downgrading: Transport = {
      connectionsOpened: 0,
      request: async (request: HttpRequest): Promise<HttpResponse> => {
        if (request.url.startsWith('https://models.example/')) {
          return { status: 302, headers: { location: url }, body: (async function* () {})(), dispose: () => undefined };
        }
        return transport.request(request);
      },
      warm: async () => undefined,
      close: async () => undefined,
    };
    const destination = join(dir, 'm.gguf');
    const refused = await downloadModel(downgrading, { url: 'https://models.example/model.gguf', destination }).catch(
      (caught: unknown) => caught,
    );
    expect(refused instanceof LocalEngineError && refused.reason).toBe('download-failed');
    expect(refused instanceof Error && refused.message).toContain('latencyCopilot.localEngine.modelSha256');
    expect(seen).toEqual([]);
    const allowed = await downloadModel(downgrading, {
      url: 'https://models.example/model.gguf',
      destination,
      sha256: MODEL_SHA,
    });
    expect(allowed.sha256).toBe(MODEL_SHA);
  });

  it('checks a model already downloaded against the SHA-256 set now, hashing it once (a sidecar remembers sha, size, mtime)', async () => {
    const destination = join(dir, 'm.gguf');
    writeFileSync(destination, MODEL);
    expect(await checkExistingModel(destination, null)).toEqual({ kind: 'reusable', hashed: false });
    expect(await checkExistingModel(destination, MODEL_V2_SHA)).toEqual({
      kind: 'mismatch',
      sha256: MODEL_SHA,
      hashed: true,
    });
    // The sidecar now knows this file: no second hash, whatever SHA is asked for.
    expect(await checkExistingModel(destination, MODEL_SHA.toUpperCase())).toEqual({ kind: 'reusable', hashed: false });
    // Touched (another file copied over it): hashed again.
    const later = new Date(Date.now() + 60_000);
    utimesSync(destination, later, later);
    expect(await checkExistingModel(destination, MODEL_SHA)).toEqual({ kind: 'reusable', hashed: true });
    expect(await checkExistingModel(join(dir, 'none.gguf'), MODEL_SHA)).toEqual({ kind: 'missing' });

    // A finished download writes the sidecar itself: its first check costs no hash.
    const downloaded = join(dir, 'd.gguf');
    await downloadModel(transport, { url, destination: downloaded, sha256: MODEL_SHA });
    expect(await checkExistingModel(downloaded, MODEL_SHA)).toEqual({ kind: 'reusable', hashed: false });
  });

  it('parses Content-Range', () => {
    expect(totalFromContentRange('bytes 100-999/1000')).toEqual({ start: 100, total: 1000 });
    expect(totalFromContentRange('bytes 0-9/*')).toEqual({ start: 0, total: null });
    expect(totalFromContentRange('items 0-9/10')).toBeNull();
    expect(totalFromContentRange(undefined)).toBeNull();
  });
});
