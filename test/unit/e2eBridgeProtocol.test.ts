// The e2e harness's contract between the suite (inside VS Code) and the runner (driving the browser): the runtime
// checks must accept what the other side sends and refuse anything else, and screenshot names must stay file names.
import { describe, expect, it } from 'vitest';
import { artifactFileName, isBridgeRequest, isBridgeResponse, isSuiteResults } from '../e2e/bridgeProtocol';

describe('e2e bridge protocol', () => {
  it('turns any screenshot name into a plain file name inside e2e-artifacts/', () => {
    expect(artifactFileName('activation')).toBe('activation.png');
    expect(artifactFileName('failed-ghost text appears & Tab accepts')).toBe(
      'failed-ghost-text-appears-Tab-accepts.png',
    );
    expect(artifactFileName('../../etc/passwd')).toBe('..-..-etc-passwd.png');
    expect(artifactFileName('///')).toBe('screenshot.png');
    expect(artifactFileName('a/b')).not.toContain('/');
  });

  it('accepts each request kind with its fields, and nothing else', () => {
    expect(isBridgeRequest({ kind: 'screenshot', name: 'x' })).toBe(true);
    expect(isBridgeRequest({ kind: 'query', selector: '.statusbar-item', inWebviews: false })).toBe(true);
    expect(isBridgeRequest({ kind: 'press', key: 'Tab' })).toBe(true);
    expect(isBridgeRequest({ kind: 'typeKeys', text: 'abc', delayMs: 10 })).toBe(true);
    expect(isBridgeRequest({ kind: 'click', selector: '#x' })).toBe(true);
    expect(isBridgeRequest({ kind: 'query', selector: '.x' })).toBe(false);
    expect(isBridgeRequest({ kind: 'evaluate', script: 'alert(1)' })).toBe(false);
    expect(isBridgeRequest({ kind: 'screenshot', name: 3 })).toBe(false);
    expect(isBridgeRequest(null)).toBe(false);
    expect(isBridgeRequest('screenshot')).toBe(false);
  });

  it('accepts the runner answers and errors, and refuses malformed ones', () => {
    expect(isBridgeResponse({ ok: true, kind: 'screenshot', path: '/a.png' })).toBe(true);
    expect(isBridgeResponse({ ok: true, kind: 'query', elements: [] })).toBe(true);
    expect(isBridgeResponse({ ok: true, kind: 'done' })).toBe(true);
    expect(isBridgeResponse({ ok: false, error: 'no page' })).toBe(true);
    expect(isBridgeResponse({ ok: false })).toBe(false);
    expect(isBridgeResponse({ ok: true, kind: 'query' })).toBe(false);
    expect(isBridgeResponse({ ok: 'yes', kind: 'done' })).toBe(false);
  });

  it('reads suite results only when every scenario has a name and a known outcome', () => {
    const good = {
      session: 'default',
      pendingSessions: ['untrusted'],
      results: [
        { name: 'activation', outcome: 'passed', durationMs: 12 },
        { name: 'ghost', outcome: 'skipped', detail: 'no browser', durationMs: 1 },
      ],
    };
    expect(isSuiteResults(good)).toBe(true);
    expect(isSuiteResults({ ...good, session: 'other' })).toBe(false);
    expect(isSuiteResults({ ...good, results: [{ name: 'x', outcome: 'maybe' }] })).toBe(false);
    expect(isSuiteResults({ session: 'default', results: [] })).toBe(false);
  });
});
