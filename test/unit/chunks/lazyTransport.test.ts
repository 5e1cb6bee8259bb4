import { afterEach, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/sim/simulator';
import { createTransport } from '../../../src/core/stream/transport';
import { createLazyTransport } from '../../../src/chunks/lazyTransport';

describe('createLazyTransport', () => {
  let sim: RunningSimulator | null = null;
  afterEach(async () => {
    await sim?.close();
    sim = null;
  });

  it('loads the transport only on first use, then delegates to it', async () => {
    let loads = 0;
    const transport = createLazyTransport({}, () => {
      loads++;
      return createTransport;
    });
    expect(loads).toBe(0);
    expect(transport.connectionsOpened).toBe(0);
    sim = await startSimulator({ ttftMs: 0 });
    const response = await transport.request({ url: `${sim.baseUrl}/v1/models`, method: 'GET', headers: {} });
    expect(response.status).toBe(200);
    for await (const chunk of response.body) expect(chunk.byteLength).toBeGreaterThan(0);
    expect(loads).toBe(1);
    expect(transport.connectionsOpened).toBeGreaterThanOrEqual(1);
    await transport.warm(`${sim.baseUrl}/v1/models`);
    expect(loads).toBe(1);
    await transport.close();
  });

  it('a missing chunk fails the request, never the warm-up', async () => {
    const transport = createLazyTransport({}, () => {
      throw new Error('dist/transport.js is missing');
    });
    await expect(transport.warm('http://127.0.0.1:9/')).resolves.toBeUndefined();
    await expect(transport.request({ url: 'http://127.0.0.1:9/', method: 'GET', headers: {} })).rejects.toThrow(
      'missing',
    );
  });
});
