// A loopback port with nothing listening on it. Imports no vitest: the end-to-end bundles (test/e2e/build.mjs) use it too.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback port the system just handed out and that was closed again: nothing listens on it, so a connection to it is
 * refused at once, and a server can bind it.
 */
export function closedPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolvePort(port));
    });
  });
}
