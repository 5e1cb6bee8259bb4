import { describe, expect, it } from 'vitest';
import type { RequestRecord, RequestStats } from '../../../../src/core/requestStats';
import { describeRouteReason } from '../../../../src/core/routeReason';
import {
  CACHE_HIT_DISPLAY_MS,
  escapeMarkdown,
  explainRouteReason,
  formatMs,
  formatTokensPerSec,
  formatUsd,
  nextEditLine,
  renderStatus,
  shortEndpointName,
  STATUS_STATES,
  todaySpendLine,
} from '../../../../src/core/speed/statusText';
import type {
  EndpointFacts,
  FinishedFact,
  RunningFact,
  StatusContext,
  StatusFacts,
  SuggestionFact,
} from '../../../../src/core/speed/statusText';
import type { NextEditStatus } from '../../../../src/core/nextEdit/nextEditTypes';
import { requestRecord, requestStats } from '../../builders/requestRecords';

const cerebras: EndpointFacts = { label: 'Cerebras llama3.1-8b', role: 'burst', simulated: false };
const gemini: EndpointFacts = { label: 'Gemini 2.5-pro', role: 'longContext', simulated: false };
const simulated: EndpointFacts = { label: 'Simulated burst (1,500 tok/s)', role: 'burst', simulated: true };
const groq: EndpointFacts = { label: 'Groq llama-3.1-8b-instant', role: 'burst', simulated: false };

function stats(overrides: Partial<RequestStats> = {}): RequestStats {
  return requestStats({
    ttftMs: 212,
    decodeTokensPerSec: 1184.4,
    outputTokens: 412,
    promptTokens: 1830,
    cachedPromptTokens: 210,
    prefillTokensPerSec: 5300,
    totalMs: 560,
    ...overrides,
  });
}

function finished(
  overrides: Partial<RequestRecord> = {},
  endpoint: EndpointFacts = cerebras,
  extra: Partial<FinishedFact> = {},
): FinishedFact {
  return {
    record: requestRecord({ startedAtEpochMs: 0, endpointLabel: endpoint.label, stats: stats(), ...overrides }),
    finishedAtMs: 10_000,
    retryAtMs: null,
    endpoint,
    recentDecodeTokensPerSec: 1184.4,
    ...extra,
  };
}

function running(overrides: Partial<RunningFact> = {}): RunningFact {
  return {
    task: 'refactor',
    elapsedMs: 300,
    endpoint: cerebras,
    routeReason: 'fits',
    liveTokensPerSec: 2043.7,
    outputTokens: 800,
    ...overrides,
  };
}

const context: StatusContext = { nowMs: 10_500, completionsEnabled: true, slowThresholdTokensPerSec: 100 };

interface Row {
  readonly name: string;
  readonly facts: StatusFacts;
  readonly context?: Partial<StatusContext>;
  readonly state: string;
  readonly text: string;
  readonly severity: string;
  /** The start of the accessibility label, when the row checks it. */
  readonly label?: string;
}

const served = finished();
const rows: readonly Row[] = [
  {
    name: 'nothing yet',
    facts: { running: null, lastOutcome: null, lastServed: null },
    state: 'no-data',
    text: '$(zap) Latency Copilot',
    severity: 'normal',
  },
  {
    name: 'nothing configured',
    facts: { running: null, lastOutcome: null, lastServed: null, configuredEndpoints: 0 },
    state: 'not-configured',
    text: '$(gear) No backend',
    severity: 'normal',
  },
  {
    name: 'configured, nothing yet',
    facts: { running: null, lastOutcome: null, lastServed: null, configuredEndpoints: 2 },
    state: 'no-data',
    text: '$(zap) Latency Copilot',
    severity: 'normal',
  },
  {
    name: 'idle with a recent figure',
    facts: { running: null, lastOutcome: served, lastServed: served },
    state: 'idle',
    text: '$(zap) Cerebras 1,184 tok/s',
    severity: 'normal',
  },
  {
    name: 'idle but slow',
    facts: { running: null, lastOutcome: served, lastServed: { ...served, recentDecodeTokensPerSec: 42 } },
    state: 'idle',
    text: '$(zap) Cerebras 42 tok/s',
    severity: 'warning',
  },
  {
    name: 'streaming',
    facts: { running: running(), lastOutcome: served, lastServed: served },
    state: 'streaming',
    text: '$(loading~spin) Cerebras 2,044 tok/s',
    severity: 'normal',
  },
  {
    name: 'streaming slowly',
    facts: { running: running({ liveTokensPerSec: 7.25 }), lastOutcome: null, lastServed: null },
    state: 'streaming',
    text: '$(loading~spin) Cerebras 7.3 tok/s',
    severity: 'warning',
  },
  {
    name: 'streaming, threshold raised',
    facts: { running: running(), lastOutcome: null, lastServed: null },
    context: { slowThresholdTokensPerSec: 3000 },
    state: 'streaming',
    text: '$(loading~spin) Cerebras 2,044 tok/s',
    severity: 'warning',
  },
  {
    name: 'waiting for the first token',
    facts: { running: running({ liveTokensPerSec: null }), lastOutcome: null, lastServed: null },
    state: 'waiting',
    text: '$(loading~spin) Cerebras …',
    severity: 'normal',
  },
  {
    name: 'streaming on the long-context fallback',
    facts: {
      running: running({ endpoint: gemini, routeReason: 'too-long', liveTokensPerSec: 312 }),
      lastOutcome: null,
      lastServed: null,
    },
    state: 'streaming',
    text: '$(loading~spin) Long context · Gemini 312 tok/s',
    severity: 'normal',
    label: 'Long-context fallback: Gemini 2.5-pro streaming at 312 tokens per second, because the prompt does not fit',
  },
  {
    name: 'waiting on the long-context fallback',
    facts: {
      running: running({ endpoint: gemini, routeReason: 'failover:refused', liveTokensPerSec: null }),
      lastOutcome: null,
      lastServed: null,
    },
    state: 'waiting',
    text: '$(loading~spin) Long context · Gemini …',
    severity: 'normal',
    label: 'Long-context fallback: Gemini 2.5-pro, waiting for the first token, because the preferred backend refused',
  },
  {
    name: 'long-context fallback served the last request (failover)',
    facts: {
      running: null,
      lastOutcome: finished({ routeReason: 'failover:network', task: 'refactor' }, gemini),
      lastServed: finished({ routeReason: 'failover:network', task: 'refactor' }, gemini, {
        recentDecodeTokensPerSec: 312,
      }),
    },
    state: 'fallback',
    text: '$(library) Long context · Gemini 312 tok/s',
    severity: 'normal',
    label:
      'Long-context fallback: Gemini 2.5-pro served the last refactor at 312 tokens per second, because the preferred backend lost the connection',
  },
  {
    name: 'long-context fallback served the last request (too long for burst)',
    facts: {
      running: null,
      lastOutcome: null,
      lastServed: finished({ routeReason: 'too-long' }, gemini, { recentDecodeTokensPerSec: 180 }),
    },
    state: 'fallback',
    text: '$(library) Long context · Gemini 180 tok/s',
    severity: 'normal',
    label:
      'Long-context fallback: Gemini 2.5-pro served the last completion at 180 tokens per second, because the prompt does not fit',
  },
  {
    name: 'long-context fallback while the burst backend rests',
    facts: {
      running: null,
      lastOutcome: null,
      lastServed: finished({ routeReason: 'cooling-down' }, gemini, { recentDecodeTokensPerSec: 40 }),
    },
    state: 'fallback',
    text: '$(library) Long context · Gemini 40 tok/s',
    severity: 'warning',
    label:
      'Long-context fallback: Gemini 2.5-pro served the last completion at 40 tokens per second, because the preferred backend is resting',
  },
  {
    name: 'a second burst backend took over',
    facts: {
      running: null,
      lastOutcome: null,
      lastServed: finished({ routeReason: 'failover:http-503' }, groq, { recentDecodeTokensPerSec: 905 }),
    },
    state: 'failover',
    text: '$(arrow-swap) Failover · Groq 905 tok/s',
    severity: 'normal',
    label:
      'Failover: Groq llama-3.1-8b-instant served the last completion at 905 tokens per second, because the preferred backend answered with a server error (HTTP 503)',
  },
  {
    name: 'a repository task on the long-context model is not a fallback',
    facts: {
      running: null,
      lastOutcome: null,
      lastServed: finished({ routeReason: 'repo-task', task: 'repo' }, gemini, { recentDecodeTokensPerSec: 312 }),
    },
    state: 'idle',
    text: '$(zap) Gemini 312 tok/s',
    severity: 'normal',
    label: 'Latency Copilot: Gemini 312 tok/s',
  },
  {
    name: 'a hedged request is not a fallback',
    facts: {
      running: null,
      lastOutcome: null,
      lastServed: finished({ routeReason: 'hedge' }, groq, { recentDecodeTokensPerSec: 905 }),
    },
    state: 'idle',
    text: '$(zap) Groq 905 tok/s',
    severity: 'normal',
  },
  {
    name: 'rate-limited with a countdown',
    facts: {
      running: null,
      lastOutcome: finished({ outcome: 'error', errorReason: 'rate-limited' }, cerebras, { retryAtMs: 22_100 }),
      lastServed: served,
    },
    state: 'rate-limited',
    text: '$(watch) Cerebras retry in 12 s',
    severity: 'warning',
  },
  {
    name: 'rate-limited, no retry time known',
    facts: {
      running: null,
      lastOutcome: finished({ outcome: 'error', errorReason: 'rate-limited' }),
      lastServed: served,
    },
    state: 'rate-limited',
    text: '$(watch) Cerebras rate-limited',
    severity: 'warning',
  },
  {
    name: 'rate limit over: back to idle',
    facts: {
      running: null,
      lastOutcome: finished({ outcome: 'error', errorReason: 'rate-limited' }, cerebras, { retryAtMs: 10_000 }),
      lastServed: served,
    },
    state: 'idle',
    text: '$(zap) Cerebras 1,184 tok/s',
    severity: 'normal',
  },
  {
    name: 'unreachable',
    facts: { running: null, lastOutcome: finished({ outcome: 'error', errorReason: 'network' }), lastServed: served },
    state: 'unreachable',
    text: '$(debug-disconnect) Cerebras unreachable',
    severity: 'error',
  },
  {
    name: 'not answering',
    facts: { running: null, lastOutcome: finished({ outcome: 'error', errorReason: 'timeout' }), lastServed: served },
    state: 'unreachable',
    text: '$(debug-disconnect) Cerebras not answering',
    severity: 'error',
  },
  {
    name: 'server error',
    facts: { running: null, lastOutcome: finished({ outcome: 'error', errorReason: 'http' }), lastServed: served },
    state: 'error',
    text: '$(error) Cerebras server error',
    severity: 'error',
  },
  {
    name: 'key rejected',
    facts: {
      running: null,
      lastOutcome: finished({ outcome: 'error', errorReason: 'unauthorized' }),
      lastServed: null,
    },
    state: 'error',
    text: '$(error) Cerebras key rejected',
    severity: 'error',
  },
  {
    name: 'completions off',
    facts: { running: null, lastOutcome: served, lastServed: served },
    context: { completionsEnabled: false },
    state: 'off',
    text: '$(circle-slash) Completions off',
    severity: 'normal',
  },
  {
    name: 'a fresh cache hit',
    facts: { running: null, lastOutcome: finished({ fromCache: true }), lastServed: served },
    state: 'cache-hit',
    text: '$(history) Cerebras cached',
    severity: 'normal',
  },
  {
    name: 'an old cache hit: idle again',
    facts: { running: null, lastOutcome: finished({ fromCache: true }), lastServed: served },
    context: { nowMs: 10_000 + CACHE_HIT_DISPLAY_MS },
    state: 'idle',
    text: '$(zap) Cerebras 1,184 tok/s',
    severity: 'normal',
  },
  {
    name: 'simulated backend',
    facts: { running: null, lastOutcome: finished({}, simulated), lastServed: finished({}, simulated) },
    state: 'simulated',
    text: '$(beaker) Simulated 1,184 tok/s',
    severity: 'normal',
  },
];

describe('renderStatus', () => {
  it.each(rows)('$name', (row) => {
    const view = renderStatus(row.facts, { ...context, ...row.context });
    expect(view.state).toBe(row.state);
    expect(view.text).toBe(row.text);
    expect(view.severity).toBe(row.severity);
    expect(view.accessibilityLabel).not.toContain('$(');
    if (row.label !== undefined)
      expect(view.accessibilityLabel.startsWith(row.label), view.accessibilityLabel).toBe(true);
  });

  it('has a row above for every state the item can be in', () => {
    expect(new Set(rows.map((row) => row.state))).toEqual(new Set(STATUS_STATES));
  });

  it('says in words why the long-context fallback served, once, with the route code', () => {
    const fact = finished({ routeReason: 'failover:refused', task: 'refactor' }, gemini, {
      recentDecodeTokensPerSec: 312,
    });
    const view = renderStatus({ running: null, lastOutcome: fact, lastServed: fact }, context);
    expect(view.tooltipMarkdown).toContain('the long-context fallback (Gemini 2\\.5\\-pro) served the last refactor');
    expect(view.tooltipMarkdown).toContain('refused the connection');
    expect(view.tooltipMarkdown).toContain('`failover:refused`');
    expect(view.tooltipMarkdown).not.toContain('| Why |');
    expect(view.tooltipMarkdown).toContain('| TTFT | 212 ms |');
  });

  it('puts TTFT, decode, prefill, tokens, their source, the backend and the route reason in the tooltip', () => {
    const view = renderStatus({ running: null, lastOutcome: served, lastServed: served }, context);
    expect(view.tooltipMarkdown).toContain('| TTFT | 212 ms |');
    expect(view.tooltipMarkdown).toContain('| Decode | 1,184 tok/s |');
    expect(view.tooltipMarkdown).toContain('| Prefill | 5,300 tok/s |');
    expect(view.tooltipMarkdown).toContain('412 out · 1,830 in (210 cached) (server)');
    expect(view.tooltipMarkdown).toContain('Cerebras llama3\\.1\\-8b');
    expect(view.tooltipMarkdown).toContain('fits: the request fits');
  });

  it('labels estimated counts and simulated backends plainly', () => {
    const fact = finished({}, simulated);
    const estimated = { ...fact, record: { ...fact.record, stats: stats({ tokensSource: 'estimate' }) } };
    const view = renderStatus({ running: null, lastOutcome: estimated, lastServed: estimated }, context);
    expect(view.tooltipMarkdown).toContain('(estimate)');
    expect(view.tooltipMarkdown).toContain('Simulated backend');
  });

  it('asks to be refreshed on each second of a rate-limit countdown and when a cache hit expires', () => {
    const limited = finished({ outcome: 'error', errorReason: 'rate-limited' }, cerebras, { retryAtMs: 22_100 });
    const first = renderStatus({ running: null, lastOutcome: limited, lastServed: null }, context);
    expect(first.refreshAfterMs).toBe(600);
    const next = renderStatus({ running: null, lastOutcome: limited, lastServed: null }, { ...context, nowMs: 11_100 });
    expect(next.text).toBe('$(watch) Cerebras retry in 11 s');
    expect(next.refreshAfterMs).toBe(1_000);
    const hit = renderStatus({ running: null, lastOutcome: finished({ fromCache: true }), lastServed: null }, context);
    expect(hit.refreshAfterMs).toBe(CACHE_HIT_DISPLAY_MS - 500);
    expect(renderStatus({ running: null, lastOutcome: served, lastServed: served }, context).refreshAfterMs).toBeNull();
  });

  it('escapes Markdown in labels that come from settings', () => {
    const evil: EndpointFacts = {
      label: 'x [click](command:workbench.action.openSettings) *',
      role: 'burst',
      simulated: false,
    };
    const view = renderStatus(
      { running: null, lastOutcome: finished({}, evil), lastServed: finished({}, evil) },
      context,
    );
    expect(view.tooltipMarkdown).not.toContain('[click](command:');
    expect(escapeMarkdown('a*b_c')).toBe('a\\*b\\_c');
  });
});

describe('the keystroke-to-suggestion line of the tooltip', () => {
  const suggestions: SuggestionFact = {
    endpoint: cerebras,
    latencyMs: { p50: 212.4, p95: 1430, count: 40 },
    fromCacheShare: 0.354,
    shown: 40,
    accepted: 9,
  };

  it('gives p50, p95, the share from cache and VS Code’s own 50 ms, above the last request’s table', () => {
    const view = renderStatus(
      { running: null, lastOutcome: served, lastServed: served, inlineSuggestions: suggestions },
      context,
    );
    const lines = view.tooltipMarkdown.split('\n');
    const line = 'Keystroke to suggestion: p50 212 ms · p95 1.4 s (35% from cache) + VS Code’s 50 ms';
    expect(lines).toContain(line);
    expect(lines.indexOf(line)).toBeLessThan(lines.indexOf('Last completion:'));
  });

  it('names the backend when the table is about another one', () => {
    const refactor = finished({ task: 'refactor', endpointId: 'longContext#0' }, gemini);
    const view = renderStatus(
      { running: null, lastOutcome: refactor, lastServed: refactor, inlineSuggestions: suggestions },
      context,
    );
    expect(view.tooltipMarkdown).toContain(
      'Keystroke to suggestion (Cerebras llama3\\.1\\-8b): p50 212 ms · p95 1.4 s (35% from cache)',
    );
  });

  it('shows the line while streaming and before any request is in the table, and nothing without samples', () => {
    const streaming = renderStatus(
      { running: running(), lastOutcome: null, lastServed: null, inlineSuggestions: suggestions },
      context,
    );
    expect(streaming.tooltipMarkdown).toContain('Keystroke to suggestion: p50 212 ms');
    const alone = renderStatus(
      { running: null, lastOutcome: null, lastServed: null, inlineSuggestions: suggestions },
      context,
    );
    expect(alone.tooltipMarkdown).toContain('(35% from cache) + VS Code’s 50 ms');
    expect(alone.tooltipMarkdown).not.toContain('No requests yet.');
    const none = renderStatus(
      { running: null, lastOutcome: served, lastServed: served, inlineSuggestions: null },
      context,
    );
    expect(none.tooltipMarkdown).not.toContain('Keystroke');
  });
});

describe('today’s spend in the tooltip', () => {
  it('says what was spent today, labels an estimate and counts requests whose price is unknown', () => {
    expect(todaySpendLine({ usd: 0.42, pricedRequests: 30, unknownRequests: 0, estimated: false })).toBe(
      'Today: $0.42',
    );
    expect(todaySpendLine({ usd: 0.42, pricedRequests: 30, unknownRequests: 0, estimated: true })).toBe(
      'Today: $0.42 (estimated)',
    );
    expect(todaySpendLine({ usd: 0.0042, pricedRequests: 3, unknownRequests: 1, estimated: false })).toBe(
      'Today: $0.0042 · unknown for 1 request',
    );
    // Never "$0" when no price is known.
    expect(todaySpendLine({ usd: 0, pricedRequests: 0, unknownRequests: 12, estimated: false })).toBe(
      'Today: unknown for 12 requests (no price set)',
    );
  });

  it('puts the line above the last request’s table, and none before today’s first request', () => {
    const todaySpend = { usd: 0.42, pricedRequests: 30, unknownRequests: 2, estimated: true };
    const lines = renderStatus(
      { running: null, lastOutcome: served, lastServed: served, todaySpend },
      context,
    ).tooltipMarkdown.split('\n');
    const line = 'Today: $0.42 (estimated) · unknown for 2 requests';
    expect(lines).toContain(line);
    expect(lines.indexOf(line)).toBeLessThan(lines.indexOf('Last completion:'));
    const alone = renderStatus({ running: null, lastOutcome: null, lastServed: null, todaySpend }, context);
    expect(alone.tooltipMarkdown).toContain(line);
    expect(alone.tooltipMarkdown).not.toContain('No requests yet.');
    const none = renderStatus({ running: null, lastOutcome: served, lastServed: served, todaySpend: null }, context);
    expect(none.tooltipMarkdown).not.toContain('Today:');
  });

  it.each([
    [0, '$0'],
    [0.00004, '< $0.0001'],
    [0.00123, '$0.0012'],
    [0.0499, '$0.05'],
    [0.42, '$0.42'],
    [12.345, '$12.35'],
    [1234.5, '$1,235'],
  ])('formatUsd(%s) = %s', (usd, text) => expect(formatUsd(usd)).toBe(text));
});

describe('the next-edit line of the tooltip', () => {
  const on: NextEditStatus = {
    state: 'on',
    endpointLabel: groq.label,
    detail: 'Next edit: on · Groq llama-3.1-8b-instant, ~180 ms, budget 400 ms.',
  };

  it('says whether next edit runs and where, escaped, above the last request’s table', () => {
    const view = renderStatus({ running: null, lastOutcome: served, lastServed: served, nextEdit: on }, context);
    const lines = view.tooltipMarkdown.split('\n');
    const line = nextEditLine(on);
    expect(line).toBe('Next edit: on · Groq llama\\-3\\.1\\-8b\\-instant, \\~180 ms, budget 400 ms\\.');
    expect(lines).toContain(line);
    expect(lines.indexOf(line)).toBeLessThan(lines.indexOf('Last completion:'));
  });

  it('says why it is off, even before any request; no line when the engine is not there', () => {
    const off: NextEditStatus = { state: 'off', endpointLabel: null, detail: 'Next edit: off (setting).' };
    const alone = renderStatus({ running: null, lastOutcome: null, lastServed: null, nextEdit: off }, context);
    expect(alone.tooltipMarkdown).toContain('Next edit: off \\(setting\\)\\.');
    expect(alone.tooltipMarkdown).not.toContain('No requests yet.');
    const none = renderStatus({ running: null, lastOutcome: served, lastServed: served }, context);
    expect(none.tooltipMarkdown).not.toContain('Next edit');
  });
});

describe('formatting helpers', () => {
  it.each([
    [1184.4, '1,184'],
    [12_000, '12,000'],
    [9.96, '10.0'],
    [0.5, '0.5'],
  ])('formatTokensPerSec(%s) = %s', (value, text) => expect(formatTokensPerSec(value)).toBe(text));

  it.each([
    [0.84, '0.8 ms'],
    [212.4, '212 ms'],
    [1430, '1.4 s'],
  ])('formatMs(%s) = %s', (value, text) => expect(formatMs(value)).toBe(text));

  it.each([
    ['Cerebras llama3.1-8b', 'Cerebras'],
    ['qwen2.5-coder', 'qwen2.5-coder'],
    ['AI model', 'AI model'],
    ['a-very-long-model-name-without-spaces', 'a-very-long-model-n…'],
  ])('shortEndpointName(%s) = %s', (label, name) => expect(shortEndpointName(label)).toBe(name));

  it('explains route reasons in words', () => {
    expect(explainRouteReason('failover:rate-limited')).toBe(
      'failover:rate-limited: the preferred backend is rate-limited (HTTP 429), so this one took over',
    );
    expect(describeRouteReason('failover:timeout')).toContain('sent no first token in time');
    expect(describeRouteReason('failover:context-too-long')).toContain('prompt is too long');
    expect(describeRouteReason('failover:http-502')).toContain('HTTP 502');
    expect(describeRouteReason('requested')).toContain('asked for');
    expect(explainRouteReason('hedge')).toContain('p95');
  });
});
