// The suite's side of the UI bridge: one HTTP POST per request to the runner that drives the browser.
import { request } from 'node:http';
import { type BridgeRequest, type BridgeResponse, isBridgeResponse } from '../bridgeProtocol';

/** Sends one request to the UI bridge at `bridgeUrl` and returns its answer (or an error answer; never throws). */
export function callBridge(bridgeUrl: string, body: BridgeRequest, timeoutMs = 30_000): Promise<BridgeResponse> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = request(
      bridgeUrl,
      { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          try {
            const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            resolve(
              isBridgeResponse(parsed) ? parsed : { ok: false, error: 'the bridge answered something unexpected' },
            );
          } catch (error) {
            resolve({ ok: false, error: `the bridge answered invalid JSON (${String(error)})` });
          }
        });
        res.on('error', (error) => resolve({ ok: false, error: `bridge response failed: ${error.message}` }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer from the UI bridge within ${timeoutMs} ms`)));
    req.on('error', (error) => resolve({ ok: false, error: `bridge request failed: ${error.message}` }));
    req.end(payload);
  });
}
