import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../src/core/clock';
import { panelHtml } from '../../../../src/core/speed/panelHtml';
import { isExportFormat, PANEL_PROTOCOL_VERSION, parseWebviewMessage } from '../../../../src/core/speed/panelProtocol';
import type { HostToWebviewMessage } from '../../../../src/core/speed/panelProtocol';
import { ManualScheduler } from '../../../../src/core/scheduler';
import { StatsHub, SUGGESTION_WINDOW } from '../../../../src/core/speed/statsHub';
import { VSCODE_INLINE_DELAY_MS } from '../../../../src/core/speed/statusText';
import { PROJECT_ROOT } from '../../projectRoot';
import { resolvedEndpoint } from '../../builders/endpoints';
import { requestRecord } from '../../builders/requestRecords';

describe('parseWebviewMessage (untrusted input from the webview)', () => {
  it.each([
    [{ type: 'ready' }, { type: 'ready' }],
    [{ type: 'runProbe' }, { type: 'runProbe' }],
    [{ type: 'reset' }, { type: 'reset' }],
    [
      { type: 'export', format: 'json' },
      { type: 'export', format: 'json' },
    ],
    [
      { type: 'export', format: 'csv' },
      { type: 'export', format: 'csv' },
    ],
  ])('accepts %j', (input, expected) => {
    expect(parseWebviewMessage(input)).toEqual(expected);
  });

  it.each([
    ['null', null],
    ['a string', 'ready'],
    ['an array', [{ type: 'ready' }]],
    ['an unknown type', { type: 'runCommand', command: 'workbench.action.terminal.new' }],
    ['an extra field', { type: 'reset', confirm: true }],
    ['an export with a path', { type: 'export', format: 'json', path: '/etc/passwd' }],
    ['an unknown format', { type: 'export', format: 'xlsx' }],
    ['a missing format', { type: 'export' }],
    ['a numeric type', { type: 1 }],
    [
      'a class instance',
      new (class Message {
        type = 'ready';
      })(),
    ],
    ['a prototype trick', JSON.parse('{"type":"ready","__proto__":{"x":1}}')],
  ])('rejects %s', (_name, input) => {
    expect(parseWebviewMessage(input)).toBeNull();
  });

  it('returns a fresh object, not the untrusted one', () => {
    const input = { type: 'export', format: 'csv' };
    const parsed = parseWebviewMessage(input);
    expect(parsed).not.toBe(input);
  });

  it('knows the export formats', () => {
    expect(isExportFormat('json')).toBe(true);
    expect(isExportFormat('JSON')).toBe(false);
  });
});

describe('the snapshot message (host to webview)', () => {
  it('carries each backend’s keystroke-to-suggestion figures through the webview’s message channel', () => {
    const burst = resolvedEndpoint({
      label: 'Cerebras llama3.1-8b',
      target: { model: 'llama3.1-8b' },
      contextWindow: 8192,
    });
    const clock = new ManualClock();
    const hub = new StatsHub({
      clock,
      scheduler: new ManualScheduler(clock, (ms) => clock.advance(ms)),
      endpoints: () => [burst],
    });
    const latencies = [
      [140, 'network'],
      [0.3, 'cache'],
      [95, 'in-flight'],
      [310, 'network'],
    ] as const;
    latencies.forEach(([latencyMs, source], streamId) =>
      hub.suggestionShown({ endpointId: 'burst#0', endpointLabel: burst.label, latencyMs, source, streamId }),
    );
    // The person took one of them with Tab.
    hub.suggestionAccepted('burst#0', burst.label);
    const message: HostToWebviewMessage = {
      type: 'snapshot',
      snapshot: {
        protocolVersion: PANEL_PROTOCOL_VERSION,
        ...hub.snapshot(),
        details: [],
        probe: { available: false, running: false, startedAtEpochMs: null, rows: [] },
        notice: null,
        slowThresholdTokensPerSec: 100,
      },
    };
    // postMessage clones the message; JSON is what the panel's "changed?" check compares, and a stricter copy.
    const received: unknown = JSON.parse(JSON.stringify(structuredClone(message)));
    expect(received).toMatchObject({
      type: 'snapshot',
      snapshot: {
        endpoints: [
          {
            endpointId: 'burst#0',
            keystrokeToSuggestion: {
              latencyMs: { p50: 95, p95: 310, count: 4 },
              fromCacheShare: 0.5,
              shown: 4,
              accepted: 1,
            },
          },
        ],
      },
    });
  });
});

describe('the snapshot message: next edit and predicted outputs', () => {
  it('carries each backend’s next-edit and predicted-output figures, and null where it has none', () => {
    const burst = resolvedEndpoint({ label: 'Simulated burst', target: { model: 'sim' }, simulated: true });
    const clock = new ManualClock();
    const hub = new StatsHub({
      clock,
      scheduler: new ManualScheduler(clock, (ms) => clock.advance(ms)),
      endpoints: () => [burst, resolvedEndpoint({ id: 'burst#1', label: 'Other' })],
    });
    hub.requestFinished(
      1,
      requestRecord(
        { task: 'next-edit', endpointId: 'burst#0:sim', endpointLabel: 'Simulated burst' },
        { acceptedPredictionTokens: 240, rejectedPredictionTokens: 12, effectiveTokensPerSec: 3900 },
      ),
    );
    hub.nextEditShown({ endpointId: 'burst#0', endpointLabel: 'Simulated burst', latencyMs: 64, wholeRegionMs: 130 });
    hub.nextEditApplied('burst#0');
    const received: unknown = JSON.parse(JSON.stringify(structuredClone(hub.snapshot())));
    expect(received).toMatchObject({
      endpoints: [
        {
          endpointId: 'burst#0',
          predictions: {
            requests: 1,
            acceptedTokens: 240,
            rejectedTokens: 12,
            effectiveTokensPerSec: { p50: 3900, p95: 3900, count: 1 },
          },
          nextEdit: {
            requests: 1,
            shown: 1,
            applied: 1,
            dismissed: 0,
            firstHunkMs: { p50: 64, p95: 64, count: 1 },
            wholeRegionMs: { p50: 130, p95: 130, count: 1 },
          },
        },
        { endpointId: 'burst#1', predictions: null, nextEdit: null },
      ],
    });
  });
});

describe('the snapshot message: cost and the prompt cache', () => {
  it('carries each backend’s cost and cache tables, spend by task and by day, and an unknown price as unknown', () => {
    const paid = resolvedEndpoint({
      label: 'Paid',
      target: { model: 'p' },
      price: {
        kind: 'priced',
        prices: { inputPerMillion: 1, cachedInputPerMillion: 0.1, outputPerMillion: 10 },
        source: 'setting',
        readOn: null,
      },
    });
    const mystery = resolvedEndpoint({ id: 'burst#1', label: 'Mystery', target: { model: 'm' } });
    const clock = new ManualClock();
    const startedAtEpochMs = new Date(2026, 11, 3, 9).getTime();
    const hub = new StatsHub({
      clock,
      scheduler: new ManualScheduler(clock, (ms) => clock.advance(ms)),
      endpoints: () => [paid, mystery],
      epochNow: () => startedAtEpochMs + 1_000,
    });
    hub.requestFinished(
      1,
      requestRecord(
        { task: 'repo', endpointId: 'burst#0:p', endpointLabel: 'Paid', startedAtEpochMs },
        { promptTokens: 10_000, cachedPromptTokens: 9_000, outputTokens: 100, ttftMs: 80 },
      ),
    );
    hub.requestFinished(2, requestRecord({ endpointId: 'burst#1:m', endpointLabel: 'Mystery', startedAtEpochMs }));
    const received: unknown = JSON.parse(JSON.stringify(structuredClone(hub.snapshot())));
    // 1,000 uncached at $1, 9,000 cached at $0.10 and 100 output at $10 per million.
    const usd = (1_000 + 900 + 1_000) / 1_000_000;
    expect(received).toMatchObject({
      endpoints: [
        {
          endpointId: 'burst#0',
          cost: {
            price: { kind: 'priced', source: 'setting' },
            spend: { usd, pricedRequests: 1, unknownRequests: 0, estimated: false },
            perRequestUsd: usd,
            perShownUsd: null,
            perAcceptedUsd: null,
            wastedShare: 0,
            tokensPerSecPerDollar: 100,
          },
          promptCache: {
            requests: 1,
            cachedPromptTokens: 9_000,
            hitShare: 0.9,
            hits: 1,
            ttftHitMs: 80,
            ttftMissMs: null,
          },
        },
        {
          endpointId: 'burst#1',
          cost: {
            price: { kind: 'unknown' },
            spend: { usd: 0, pricedRequests: 0, unknownRequests: 1 },
            perRequestUsd: null,
          },
          promptCache: null,
        },
      ],
      cost: {
        total: { usd, pricedRequests: 1, unknownRequests: 1 },
        byTask: [
          { task: 'inline', spend: { usd: 0, pricedRequests: 0, unknownRequests: 1 } },
          { task: 'repo', spend: { usd, pricedRequests: 1, unknownRequests: 0 } },
        ],
        byDay: [{ day: '2026-12-03', spend: { usd, pricedRequests: 1, unknownRequests: 1 } }],
        today: '2026-12-03',
        todaySpend: { usd, pricedRequests: 1, unknownRequests: 1 },
      },
    });
  });
});

describe('the webview script', () => {
  const mediaSrc = join(PROJECT_ROOT, 'media', 'src');
  it.runIf(existsSync(mediaSrc))('imports only types from src/core (its bundle carries no extension code)', () => {
    const offenders: string[] = [];
    for (const name of readdirSync(mediaSrc).filter((file) => file.endsWith('.ts'))) {
      const code = readFileSync(join(mediaSrc, name), 'utf8');
      for (const match of code.matchAll(/^\s*import\s+(type\s+)?[^;]*?from\s+['"]([^'"]+)['"]/gm)) {
        const isTypeOnly = match[1] !== undefined;
        const source = match[2] ?? '';
        if (source.includes('src/core') && !isTypeOnly) offenders.push(`${name}: ${match[0].trim()}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it.runIf(existsSync(mediaSrc))('states the figures it may not import with the values core uses', () => {
    const code = readFileSync(join(mediaSrc, 'panel.ts'), 'utf8');
    expect(code).toContain(`const VSCODE_INLINE_DELAY_MS = ${VSCODE_INLINE_DELAY_MS};`);
    expect(code).toContain(`const SUGGESTION_WINDOW = ${SUGGESTION_WINDOW};`);
  });

  it.runIf(existsSync(mediaSrc))('formats dollars as the status bar does (its copy of formatUsd is the same)', () => {
    const body = (file: string) => {
      const code = readFileSync(file, 'utf8');
      const start = code.indexOf('function formatUsd(usd: number): string {');
      return code.slice(start, code.indexOf('\n}\n', start));
    };
    const panel = body(join(mediaSrc, 'panel.ts'));
    expect(panel).toContain('toPrecision(2)');
    expect(panel).toBe(body(join(PROJECT_ROOT, 'src', 'core', 'speed', 'statusText.ts')));
  });
});

describe('panelHtml', () => {
  const html = panelHtml({
    cspSource: 'https://file+.vscode-resource.vscode-cdn.net',
    nonce: 'bm9uY2Vub25jZW5vbmNlMTI=',
    scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/dist/panel.js',
    styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/media/panel.css',
  });

  it('has a strict CSP: nothing by default, no inline code, one script by nonce', () => {
    const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'nonce-bm9uY2Vub25jZW5vbmNlMTI='");
    expect(csp).not.toContain('unsafe');
    expect(csp).not.toMatch(/\*|https?:\/\/(?!file\+)/);
  });

  it('has no inline script or style, and the script carries the nonce', () => {
    expect(html).not.toMatch(/<style/i);
    expect(html).not.toMatch(/\sstyle=/i);
    expect(html).not.toMatch(/\son[a-z]+=/i);
    const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)];
    expect(scripts).toHaveLength(1);
    expect(scripts[0]?.[1]).toContain('nonce="bm9uY2Vub25jZW5vbmNlMTI="');
    expect(scripts[0]?.[2]?.trim()).toBe('');
  });

  it('escapes attribute values', () => {
    expect(panelHtml({ cspSource: 'x', nonce: 'n"><script>', scriptUri: 's', styleUri: 'c' })).not.toContain(
      'n"><script>',
    );
  });
});
