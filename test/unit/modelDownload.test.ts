import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngineError } from '../../src/core/localEngine/localEngineError';
import { downloadModel, totalFromContentRange } from '../../src/core/localEngine/modelDownload';
import type { DownloadProgress } from '../../src/core/localEngine/modelDownload';
import { createTransport } from '../../src/core/transport';
import type { Transport } from '../../src/core/transport';

const MODEL = randomBytes(300_000);
const MODEL_SHA = createHash('sha256').update(MODEL).digest('hex');

interface ServerBehaviour {
  /** Honour Range requests with 206 (else always 200 with the whole file). */
  ranges: boolean;
  /** Destroy the connection after sending this many body bytes (simulates a broken download). */
  cutAfter: number | null;
  status: number;
}

describe('downloadModel', () => {
  let server: Server;
  let url = '';
  let transport: Transport;
  let dir = '';
  const behaviour: ServerBehaviour = { ranges: true, cutAfter: null, status: 200 };
  const rangesSeen: (string | undefined)[] = [];

  function serve(request: IncomingMessage, response: ServerResponse): void {
    if (request.url !== '/model.gguf') {
      response.writeHead(404).end();
      return;
    }
    rangesSeen.push(request.headers.range);
    if (behaviour.status !== 200) {
      response.writeHead(behaviour.status).end('nope');
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    if (behaviour.ranges && range) {
      start = Number(range[1]);
      if (start >= MODEL.length) {
        response.writeHead(416, { 'content-range': `bytes */${MODEL.length}` }).end();
        return;
      }
      response.writeHead(206, {
        'content-range': `bytes ${start}-${MODEL.length - 1}/${MODEL.length}`,
        'content-length': String(MODEL.length - start),
      });
    } else {
      response.writeHead(200, { 'content-length': String(MODEL.length) });
    }
    const body = MODEL.subarray(start);
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
    Object.assign(behaviour, { ranges: true, cutAfter: null, status: 200 });
    rangesSeen.length = 0;
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
    const broken = await downloadModel(transport, { url, destination, sha256: MODEL_SHA }).catch((error: unknown) => error);
    expect(broken instanceof LocalEngineError && broken.reason).toBe('download-failed');
    expect(existsSync(destination)).toBe(false);
    const partial = readFileSync(`${destination}.part`).length;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(MODEL.length);

    behaviour.cutAfter = null;
    const result = await downloadModel(transport, { url, destination, sha256: MODEL_SHA });
    expect(rangesSeen.at(-1)).toBe(`bytes=${partial}-`);
    expect(result.resumedFromBytes).toBe(partial);
    expect(result.sha256).toBe(MODEL_SHA);
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
  });

  it('starts over when the server ignores Range (200)', async () => {
    const destination = join(dir, 'm.gguf');
    writeFileSync(`${destination}.part`, MODEL.subarray(0, 5000));
    behaviour.ranges = false;
    const result = await downloadModel(transport, { url, destination, expectedBytes: MODEL.length });
    expect(result.resumedFromBytes).toBe(0);
    expect(readFileSync(destination).equals(MODEL)).toBe(true);
  });

  it('rejects a wrong checksum and removes the file, so the next attempt starts clean', async () => {
    const destination = join(dir, 'm.gguf');
    const error = await downloadModel(transport, { url, destination, sha256: '0'.repeat(64) }).catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('checksum-mismatch');
    expect(existsSync(destination)).toBe(false);
    expect(existsSync(`${destination}.part`)).toBe(false);
  });

  it('rejects a size that differs from the expected one', async () => {
    const destination = join(dir, 'm.gguf');
    const error = await downloadModel(transport, { url, destination, expectedBytes: MODEL.length + 1 }).catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('size-mismatch');
    expect(existsSync(destination)).toBe(false);
  });

  it('says download-failed with the status on an HTTP error', async () => {
    behaviour.status = 404;
    const error = await downloadModel(transport, { url, destination: join(dir, 'm.gguf') }).catch((caught: unknown) => caught);
    expect(error instanceof LocalEngineError && error.reason).toBe('download-failed');
    expect(error instanceof Error && error.message).toContain('HTTP 404');
  });

  it('parses Content-Range', () => {
    expect(totalFromContentRange('bytes 100-999/1000')).toEqual({ start: 100, total: 1000 });
    expect(totalFromContentRange('bytes 0-9/*')).toEqual({ start: 0, total: null });
    expect(totalFromContentRange('items 0-9/10')).toBeNull();
    expect(totalFromContentRange(undefined)).toBeNull();
  });
});
