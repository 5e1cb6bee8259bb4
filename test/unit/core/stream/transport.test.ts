import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../../../../src/core/errors';
import { createTransport, type Transport } from '../../../../src/core/stream/transport';
import { PROJECT_ROOT } from '../../projectRoot';

interface TestServer {
  readonly url: string;
  readonly connections: () => number;
  readonly requests: string[];
  close(): Promise<void>;
}

async function startServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<TestServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response);
  });
  server.keepAliveTimeout = 65_000;
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A streaming endpoint: writes a chunk every 5 ms, forever, until the client leaves. */
function endlessStream(request: IncomingMessage, response: ServerResponse): void {
  if (request.url === '/warm') {
    response.end('ok');
    return;
  }
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  const timer = setInterval(() => response.write('data: {"content":"x"}\n\n'), 5);
  response.on('close', () => clearInterval(timer));
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function track<T extends { close(): Promise<void> }>(thing: T): T {
  cleanups.push(() => thing.close());
  return thing;
}

async function readSome(transport: Transport, url: string, signal: AbortSignal, chunks: number): Promise<void> {
  const response = await transport.request({ url, method: 'POST', headers: {}, body: '{}', signal });
  let seen = 0;
  try {
    for await (const _chunk of response.body) {
      seen += 1;
      if (seen >= chunks) return;
    }
  } finally {
    response.dispose();
  }
}

describe('transport over undici', () => {
  async function drainedRequest(transport: Transport, url: string): Promise<number> {
    const response = await transport.request({ url, method: 'GET', headers: {} });
    for await (const _chunk of response.body) {
      // drain
    }
    return response.status;
  }

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = track(await startServer((_request, response) => response.end('{"ok":true}')));
    const transport = track(createTransport({ spareConnections: 0 }));
    for (let i = 0; i < 5; i++) {
      expect(await drainedRequest(transport, `${server.url}/v1/models`)).toBe(200);
      // undici frees the connection a moment after the body ends; a person's next keystroke is never that close.
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(server.connections()).toBe(1);
    expect(transport.connectionsOpened).toBe(1);
  });

  it('opens no new connection in steady state once its spares are up', async () => {
    const server = track(await startServer((_request, response) => response.end('{"ok":true}')));
    const transport = track(createTransport({ spareConnections: 2 }));
    await drainedRequest(transport, `${server.url}/v1/models`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const settled = transport.connectionsOpened;
    expect(settled).toBeLessThanOrEqual(4);
    for (let i = 0; i < 10; i++) await drainedRequest(transport, `${server.url}/v1/models`);
    expect(transport.connectionsOpened).toBe(settled);
    expect(server.connections()).toBe(settled);
  });

  it('keeps spare connections so a request after an aborted stream never waits for a connect', async () => {
    const server = track(await startServer(endlessStream));
    const transport = track(createTransport({ spareConnections: 2 }));
    await transport.warm(`${server.url}/warm`);
    const openedAfterWarm = transport.connectionsOpened;
    expect(openedAfterWarm).toBe(2);
    for (let i = 0; i < 10; i++) {
      const controller = new AbortController();
      const before = transport.connectionsOpened;
      const reading = readSome(transport, `${server.url}/stream`, controller.signal, 3);
      await reading;
      controller.abort();
      // The request itself found an idle connection: the counter had not moved when it was dispatched.
      expect(transport.connectionsOpened - before).toBeLessThanOrEqual(1);
      // Let the replacement connection open off the critical path.
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    // Each abort destroyed one socket (HTTP/1.1), and each was replaced in the background.
    expect(transport.connectionsOpened).toBeGreaterThanOrEqual(openedAfterWarm + 5);
  });

  it('times out when no headers come, and when the body goes silent', async () => {
    const silentHeaders = track(await startServer(() => undefined));
    const transport = track(createTransport());
    const headersError = await transport
      .request({ url: `${silentHeaders.url}/x`, method: 'GET', headers: {}, headersTimeoutMs: 100 })
      .catch((error: unknown) => error);
    expect(headersError).toBeInstanceOf(BackendError);
    expect(headersError).toMatchObject({ reason: 'timeout' });

    const stalls = track(
      await startServer((_request, response) => {
        response.writeHead(200);
        response.write('first');
      }),
    );
    const response = await transport.request({
      url: `${stalls.url}/x`,
      method: 'GET',
      headers: {},
      idleTimeoutMs: 100,
    });
    const chunks: string[] = [];
    const bodyError = await (async () => {
      for await (const chunk of response.body) chunks.push(Buffer.from(chunk).toString());
    })().catch((error: unknown) => error);
    expect(chunks).toEqual(['first']);
    expect(bodyError).toMatchObject({ reason: 'timeout' });
  });

  it('reports a refused connection as network, and a cancel as aborted', async () => {
    const server = await startServer(endlessStream);
    const closedUrl = server.url;
    await server.close();
    const transport = track(createTransport());
    const refused = await transport
      .request({ url: `${closedUrl}/x`, method: 'GET', headers: {} })
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ reason: 'network' });

    const live = track(await startServer(endlessStream));
    const controller = new AbortController();
    const response = await transport.request({
      url: `${live.url}/s`,
      method: 'POST',
      headers: {},
      body: '{}',
      signal: controller.signal,
    });
    const aborted = await (async () => {
      for await (const _chunk of response.body) controller.abort();
    })().catch((error: unknown) => error);
    expect(aborted).toMatchObject({ reason: 'aborted' });
  });

  it('speaks HTTP/2 to an https origin that offers it, and an abort there costs no new connection', async () => {
    const { createSecureServer } = await import('node:http2');
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const tls = join(PROJECT_ROOT, 'test', 'fixtures', 'tls');
    const cert = readFileSync(join(tls, 'localhost.crt'), 'utf8');
    const versions: string[] = [];
    let sessions = 0;
    const server = createSecureServer(
      { key: readFileSync(join(tls, 'localhost.key')), cert, allowHTTP1: true },
      (request, response) => {
        versions.push(request.httpVersion);
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const timer = setInterval(() => response.write('data: {"content":"x"}\n\n'), 5);
        response.on('close', () => clearInterval(timer));
      },
    );
    server.on('session', () => {
      sessions += 1;
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const transport = track(createTransport({ extraCaCertificates: [cert] }));
    for (let i = 0; i < 3; i++) {
      const controller = new AbortController();
      await readSome(transport, `https://127.0.0.1:${port}/v1/chat/completions`, controller.signal, 2);
      controller.abort();
    }
    expect(versions).toEqual(['2.0', '2.0', '2.0']);
    // Three aborted streams, one connection: over HTTP/2 an abort is a stream reset.
    expect(sessions).toBe(1);
    expect(transport.connectionsOpened).toBe(1);
  });

  it('sends non-loopback requests through the configured proxy, and loopback ones directly', async () => {
    const direct = track(
      await startServer((request, response) => response.end(`direct ${request.headers.host ?? ''}`)),
    );
    // A CONNECT proxy that "resolves" every host to the direct server, recording what it was asked for.
    const tunnels: string[] = [];
    const proxy = track(await startServer((_request, response) => response.end('not a tunnel')));
    const proxyServerPort = Number(new URL(proxy.url).port);
    const directPort = Number(new URL(direct.url).port);
    const { createConnection } = await import('node:net');
    const proxyServer = (await import('node:http')).createServer();
    proxyServer.on('connect', (request: IncomingMessage, clientSocket: Socket, head: Buffer) => {
      tunnels.push(request.url ?? '');
      const upstream = createConnection(directPort, '127.0.0.1', () => {
        clientSocket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(clientSocket);
        clientSocket.pipe(upstream);
      });
      clientSocket.on('error', () => upstream.destroy());
      upstream.on('error', () => clientSocket.destroy());
    });
    await new Promise<void>((resolve) => proxyServer.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          proxyServer.closeAllConnections();
          proxyServer.close(() => resolve());
        }),
    );
    expect(proxyServerPort).toBeGreaterThan(0);
    const tunnelPort = (proxyServer.address() as AddressInfo).port;
    const transport = track(createTransport({ proxyUrl: `http://127.0.0.1:${tunnelPort}`, env: {} }));
    const viaProxy = await transport.request({
      url: 'http://api.example.invalid/v1/models',
      method: 'GET',
      headers: {},
    });
    let text = '';
    for await (const chunk of viaProxy.body) text += Buffer.from(chunk).toString();
    expect(text).toBe('direct api.example.invalid');
    expect(tunnels).toEqual(['api.example.invalid:80']);
    const local = await transport.request({ url: `${direct.url}/v1/models`, method: 'GET', headers: {} });
    let localText = '';
    for await (const chunk of local.body) localText += Buffer.from(chunk).toString();
    expect(localText).toBe(`direct 127.0.0.1:${directPort}`);
    expect(tunnels).toHaveLength(1);
  });
});
