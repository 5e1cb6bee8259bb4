// What the status bar item says, for every state, as a pure function of sampled facts and the time.
// Icons are VS Code codicons (`$(name)`), which follow the theme; `~spin` animates in CSS, so the spinner costs no updates.
import type { BackendRole } from '../endpoint';
import type { BackendErrorReason } from '../errors';
import type { NextEditStatus } from '../nextEdit/nextEditTypes';
import type { SpendFigure, SuggestionLatency } from './panelProtocol';
import type { RequestRecord, RequestTask } from '../requestStats';
import { describeRouteReason, isFallbackReason, type RecordedRouteReason, type RouteReason } from '../routeReason';

/** How long a cache hit stays on the status bar, in ms, before it goes back to the idle figure. */
export const CACHE_HIT_DISPLAY_MS = 3_000;

/** The default of `latencyCopilot.statusBar.slowThresholdTokensPerSec`: decode speeds below it get the warning colour. */
export const DEFAULT_SLOW_THRESHOLD_TOKENS_PER_SEC = 100;

/**
 * VS Code's own wait after a keystroke before it calls an inline completion provider, in ms: fixed in the stable API
 * (only the proposed `debounceDelayMs` changes it), outside what the extension can measure, so it is named beside the
 * keystroke-to-suggestion figures rather than added to them.
 */
export const VSCODE_INLINE_DELAY_MS = 50;

/** Display facts about an endpoint. */
export interface EndpointFacts {
  readonly label: string;
  /** Null when only history knows the endpoint. */
  readonly role: BackendRole | null;
  readonly simulated: boolean;
}

/** The newest running request, sampled. */
export interface RunningFact {
  readonly task: RequestTask;
  /** Since the request started, in ms. */
  readonly elapsedMs: number;
  /** Null until the router picked an endpoint. */
  readonly endpoint: EndpointFacts | null;
  readonly routeReason: RouteReason | null;
  /** Live decode speed in tokens/s; null before the second token. */
  readonly liveTokensPerSec: number | null;
  readonly outputTokens: number;
}

/** A finished request and what is known around it. */
export interface FinishedFact {
  readonly record: RequestRecord;
  /** When it finished, on the hub's monotonic clock (ms). */
  readonly finishedAtMs: number;
  /** When a rate-limited endpoint may be tried again (monotonic ms), when the server said. */
  readonly retryAtMs: number | null;
  readonly endpoint: EndpointFacts;
  /** The endpoint's median decode speed over its recent requests, tokens/s. */
  readonly recentDecodeTokensPerSec: number | null;
}

/** Keystroke-to-suggestion figures of the backend that served the newest inline suggestion. */
export interface SuggestionFact extends SuggestionLatency {
  readonly endpoint: EndpointFacts;
}

/** What the stats hub knows that the status bar shows. */
export interface StatusFacts {
  readonly running: RunningFact | null;
  /** The newest finished request that was not cancelled (cache hits included): it decides error and cache-hit states. */
  readonly lastOutcome: FinishedFact | null;
  /** The newest request that got tokens over the network: its figures fill the tooltip. */
  readonly lastServed: FinishedFact | null;
  /** How many endpoints are configured (any role); null when the hub is not told. */
  readonly configuredEndpoints?: number | null;
  /** The backend serving inline completions, by its newest shown suggestion; null before the first. */
  readonly inlineSuggestions?: SuggestionFact | null;
  /** Whether next-edit suggestions run, where and why (from the next-edit engine, not the hub); absent: no line. */
  readonly nextEdit?: NextEditStatus | null;
  /** Today's spend over every backend (local date); null or absent before today's first request: no line. */
  readonly todaySpend?: SpendFigure | null;
}

/** Settings and editor state the status bar depends on besides the hub. */
export interface StatusContext {
  /** On the same monotonic clock as the facts, in ms. */
  readonly nowMs: number;
  readonly completionsEnabled: boolean;
  readonly slowThresholdTokensPerSec: number;
}

/** Every state the item can be in; each has its own icon and text (the unit tests render each one). */
export const STATUS_STATES = [
  'streaming',
  'waiting',
  'fallback',
  'failover',
  'rate-limited',
  'unreachable',
  'error',
  'off',
  'cache-hit',
  'simulated',
  'idle',
  'not-configured',
  'no-data',
] as const;

/** One of `STATUS_STATES`. */
export type StatusState = (typeof STATUS_STATES)[number];

/** How the item is coloured: `warning` and `error` use the status bar's warning and error backgrounds. */
export type StatusSeverity = 'normal' | 'warning' | 'error';

/** What the status bar item shows. */
export interface StatusView {
  readonly state: StatusState;
  /** The item text, with `$(codicon)` icons. */
  readonly text: string;
  /** The tooltip, as Markdown (untrusted names escaped). */
  readonly tooltipMarkdown: string;
  /** What a screen reader says (no icon syntax). */
  readonly accessibilityLabel: string;
  readonly severity: StatusSeverity;
  /** When the text will change with time alone (a countdown, a cache hit expiring), in ms; null when it will not. */
  readonly refreshAfterMs: number | null;
}

const ICONS: Readonly<Record<StatusState, string>> = {
  streaming: '$(loading~spin)',
  waiting: '$(loading~spin)',
  fallback: '$(library)',
  failover: '$(arrow-swap)',
  'rate-limited': '$(watch)',
  unreachable: '$(debug-disconnect)',
  error: '$(error)',
  off: '$(circle-slash)',
  'cache-hit': '$(history)',
  simulated: '$(beaker)',
  idle: '$(zap)',
  'not-configured': '$(gear)',
  'no-data': '$(zap)',
};

/** Formats tokens/s the way the status bar shows it: `1,184` (one decimal below 10). */
export function formatTokensPerSec(value: number): string {
  if (value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

/** Formats milliseconds: `212 ms`, `1.4 s`, `0.8 ms`. */
export function formatMs(value: number): string {
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1_000) return `${Math.round(value)} ms`;
  return `${(value / 1_000).toFixed(1)} s`;
}

/** The short name the status bar uses: the first word of a multi-word label (`Cerebras llama3.1-8b` -> `Cerebras`). */
export function shortEndpointName(label: string): string {
  const trimmed = label.trim();
  const firstWord = trimmed.split(/\s+/)[0] ?? '';
  const name = firstWord.length >= 3 ? firstWord : trimmed;
  return name.length > 20 ? `${name.slice(0, 19)}…` : name;
}

/** Explains a route reason for the tooltip: the code as the log and panel show it, then its meaning in words. */
export function explainRouteReason(reason: RecordedRouteReason): string {
  return `${reason}: ${describeRouteReason(reason)}`;
}

/** Escapes text for a Markdown tooltip (labels and reasons come from settings and servers). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, (char) => `\\${char}`);
}

const ERROR_WORDS: Readonly<Record<BackendErrorReason, string>> = {
  'rate-limited': 'rate-limited',
  unauthorized: 'key rejected',
  'context-too-long': 'prompt too long',
  http: 'server error',
  network: 'unreachable',
  timeout: 'not answering',
  malformed: 'bad response',
  aborted: 'cancelled',
  'not-configured': 'not configured',
};

/**
 * How a request that did not go to its usual backend is labelled: `long-context` when the long-context model took it
 * (a prompt too long for the burst model, or the burst backends failed or rest), `failover` when another burst backend
 * did, null when the router's first choice served.
 */
function fallbackKind(
  routeReason: RecordedRouteReason | null,
  endpoint: EndpointFacts | null,
): 'long-context' | 'failover' | null {
  if (routeReason === null || endpoint === null || !isFallbackReason(routeReason)) return null;
  if (endpoint.role === 'longContext' || (endpoint.role === null && routeReason === 'too-long')) return 'long-context';
  return 'failover';
}

/** The words in front of the model's name when a fallback served: `Long context · ` or `Failover · `. */
const FALLBACK_PREFIX = { 'long-context': 'Long context · ', failover: 'Failover · ' } as const;

/** How a screen reader announces a fallback: the first words of the accessibility label. */
const FALLBACK_SPOKEN = { 'long-context': 'Long-context fallback', failover: 'Failover' } as const;

function taskWord(task: RequestTask): string {
  switch (task) {
    case 'inline':
      return 'completion';
    case 'next-edit':
      return 'next edit';
    case 'refactor':
      return 'refactor';
    case 'repo':
      return 'repository task';
    case 'probe':
      return 'probe';
  }
}

function statsTable(fact: FinishedFact, reasonShown: boolean): string[] {
  const stats = fact.record.stats;
  const source = stats.tokensSource === 'server' ? 'server' : 'estimate';
  const rows: string[] = ['| | |', '|---|---|'];
  rows.push(`| TTFT | ${stats.ttftMs === null ? '–' : formatMs(stats.ttftMs)} |`);
  const decode = stats.decodeTokensPerSec === null ? '–' : `${formatTokensPerSec(stats.decodeTokensPerSec)} tok/s`;
  const serverDecode =
    stats.serverDecodeTokensPerSec === null
      ? ''
      : ` (server says ${formatTokensPerSec(stats.serverDecodeTokensPerSec)})`;
  rows.push(`| Decode | ${decode}${serverDecode} |`);
  rows.push(
    `| Prefill | ${stats.prefillTokensPerSec === null ? '–' : `${formatTokensPerSec(stats.prefillTokensPerSec)} tok/s`} |`,
  );
  const prompt =
    stats.promptTokens === null
      ? ''
      : ` · ${stats.promptTokens.toLocaleString('en-US')} in${
          stats.cachedPromptTokens ? ` (${stats.cachedPromptTokens.toLocaleString('en-US')} cached)` : ''
        }`;
  rows.push(`| Tokens | ${stats.outputTokens.toLocaleString('en-US')} out${prompt} (${source}) |`);
  if (fact.recentDecodeTokensPerSec !== null) {
    rows.push(
      `| Recent decode | ${formatTokensPerSec(fact.recentDecodeTokensPerSec)} tok/s (median of the last requests) |`,
    );
  }
  rows.push(`| Backend | ${escapeMarkdown(fact.endpoint.label)}${fact.endpoint.simulated ? ' (simulated)' : ''} |`);
  if (!reasonShown) rows.push(`| Why | ${escapeMarkdown(explainRouteReason(fact.record.routeReason))} |`);
  return rows;
}

/**
 * The tooltip's keystroke-to-suggestion line. It names the backend only when the tooltip's table is about another one
 * (the last served request was, say, a refactor on the long-context model).
 */
function suggestionLine(fact: SuggestionFact, tableLabel: string | null): string {
  const { p50, p95 } = fact.latencyMs;
  const which =
    tableLabel === null || tableLabel === fact.endpoint.label ? '' : ` (${escapeMarkdown(fact.endpoint.label)})`;
  const fromCache = Math.round(fact.fromCacheShare * 100);
  return `Keystroke to suggestion${which}: p50 ${formatMs(p50)} · p95 ${formatMs(p95)} (${fromCache}% from cache) + VS Code’s ${VSCODE_INLINE_DELAY_MS} ms`;
}

/**
 * US dollars for display: cents from a cent up, two significant digits below it (a completion costs fractions of a
 * cent, and "$0.00" would read as free), whole dollars from $100.
 */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.0001) return '< $0.0001';
  if (usd < 0.01) return `$${Number(usd.toPrecision(2))}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}

/**
 * The tooltip's spend line: "Today: $0.42 (estimated)", and how many requests are left out because their backend's
 * price is unknown (never counted as zero).
 */
export function todaySpendLine(spend: SpendFigure): string {
  const unknown = spend.unknownRequests;
  const unknownText = `unknown for ${unknown.toLocaleString('en-US')} ${unknown === 1 ? 'request' : 'requests'}`;
  if (spend.pricedRequests === 0) return `Today: ${unknownText} (no price set)`;
  const estimated = spend.estimated ? ' (estimated)' : '';
  return `Today: ${formatUsd(spend.usd)}${estimated}${unknown > 0 ? ` · ${unknownText}` : ''}`;
}

/**
 * The tooltip's next-edit line: the engine's own sentence ("Next edit: on · Groq …, within 400 ms", or why it is off or
 * paused), escaped, since it holds backend labels from settings.
 */
export function nextEditLine(status: NextEditStatus): string {
  return escapeMarkdown(status.detail);
}

/** `reasonShown`: the extra lines already say why the last served request went where it did (no second "Why" row). */
function tooltip(headline: string, facts: StatusFacts, extra: readonly string[], reasonShown = false): string {
  const lines: string[] = [`**Latency Copilot** — ${headline}`, ''];
  lines.push(...extra);
  const served = facts.lastServed;
  const suggestions = facts.inlineSuggestions ?? null;
  if (suggestions !== null) {
    if (extra.length > 0) lines.push('');
    lines.push(suggestionLine(suggestions, served?.endpoint.label ?? null));
  }
  const nextEdit = facts.nextEdit ?? null;
  if (nextEdit !== null) {
    if (extra.length > 0 || suggestions !== null) lines.push('');
    lines.push(nextEditLine(nextEdit));
  }
  const today = facts.todaySpend ?? null;
  if (today !== null) {
    if (extra.length > 0 || suggestions !== null || nextEdit !== null) lines.push('');
    lines.push(todaySpendLine(today));
  }
  if (served !== null) {
    if (extra.length > 0 || suggestions !== null || nextEdit !== null || today !== null) lines.push('');
    lines.push(`Last ${taskWord(served.record.task)}:`, '', ...statsTable(served, reasonShown));
  } else if (extra.length === 0 && suggestions === null && nextEdit === null && today === null) {
    lines.push('No requests yet.');
  }
  const simulated = facts.running?.endpoint?.simulated === true || served?.endpoint.simulated === true;
  if (simulated)
    lines.push('', '_Simulated backend: these figures come from the built-in simulator, not a real model._');
  lines.push(
    '',
    'TTFT: request sent to first token. Decode: tokens/s after the first token.',
    '',
    'Click to open the model-speed panel.',
  );
  return lines.join('\n');
}

function plain(text: string): string {
  return text.replace(/\$\([^)]*\)\s*/g, '').trim();
}

function view(
  state: StatusState,
  body: string,
  tooltipMarkdown: string,
  severity: StatusSeverity,
  refreshAfterMs: number | null,
  accessibilityLabel?: string,
): StatusView {
  const text = `${ICONS[state]} ${body}`.trim();
  return {
    state,
    text,
    tooltipMarkdown,
    accessibilityLabel: accessibilityLabel ?? `Latency Copilot: ${plain(text)}`,
    severity,
    refreshAfterMs,
  };
}

function speedSeverity(tokensPerSec: number | null, context: StatusContext): StatusSeverity {
  return tokensPerSec !== null && tokensPerSec < context.slowThresholdTokensPerSec ? 'warning' : 'normal';
}

/**
 * Decides the status bar item's state and words. Order of precedence: a running stream; a rate limit still in force;
 * an unreachable or failing backend; completions switched off; a fresh cache hit; a long-context fallback; the idle
 * figure (recent decode speed) on a simulated or real backend; nothing yet.
 */
export function renderStatus(facts: StatusFacts, context: StatusContext): StatusView {
  const running = facts.running;
  if (running !== null) {
    const kind = fallbackKind(running.routeReason, running.endpoint);
    const name = `${kind === null ? '' : FALLBACK_PREFIX[kind]}${running.endpoint === null ? 'routing' : shortEndpointName(running.endpoint.label)}`;
    const spokenPrefix = kind === null ? 'Latency Copilot' : FALLBACK_SPOKEN[kind];
    const spokenName = running.endpoint === null ? 'choosing a backend' : running.endpoint.label;
    const spokenWhy =
      kind === null || running.routeReason === null ? '' : `, because ${describeRouteReason(running.routeReason)}`;
    const where =
      running.endpoint === null
        ? 'choosing a backend'
        : `${escapeMarkdown(running.endpoint.label)}${running.endpoint.simulated ? ' (simulated)' : ''}`;
    const why = running.routeReason === null ? [] : [`Why: ${escapeMarkdown(explainRouteReason(running.routeReason))}`];
    if (running.liveTokensPerSec === null) {
      const headline = `waiting for the first token (${taskWord(running.task)}, ${formatMs(running.elapsedMs)} so far)`;
      const spoken = `${spokenPrefix}: ${spokenName}, waiting for the first token${spokenWhy}`;
      return view(
        'waiting',
        `${name} …`,
        tooltip(headline, facts, [`Backend: ${where}`, ...why]),
        'normal',
        null,
        spoken,
      );
    }
    const rate = formatTokensPerSec(running.liveTokensPerSec);
    const headline = `streaming a ${taskWord(running.task)} at ${rate} tok/s (live decode)`;
    const extra = [`Backend: ${where}`, ...why, `Tokens so far: ${running.outputTokens.toLocaleString('en-US')}`];
    return view(
      'streaming',
      `${name} ${rate} tok/s`,
      tooltip(headline, facts, extra),
      speedSeverity(running.liveTokensPerSec, context),
      null,
      `${spokenPrefix}: ${spokenName} streaming at ${rate} tokens per second${spokenWhy}`,
    );
  }

  const outcome = facts.lastOutcome;
  if (outcome !== null && outcome.record.outcome === 'error' && outcome.record.errorReason !== null) {
    const reason = outcome.record.errorReason;
    const name = shortEndpointName(outcome.endpoint.label);
    const label = escapeMarkdown(outcome.endpoint.label);
    if (reason === 'rate-limited') {
      const leftMs = outcome.retryAtMs === null ? null : outcome.retryAtMs - context.nowMs;
      if (leftMs === null || leftMs > 0) {
        const seconds = leftMs === null ? null : Math.ceil(leftMs / 1_000);
        const body = seconds === null ? `${name} rate-limited` : `${name} retry in ${seconds} s`;
        const headline = `${label} is rate-limited${seconds === null ? '' : `; it is tried again in ${seconds} s`}`;
        // Refresh on the next whole-second boundary of the countdown.
        const refresh = leftMs === null ? null : leftMs - (seconds === null ? 0 : (seconds - 1) * 1_000);
        return view('rate-limited', body, tooltip(headline, facts, []), 'warning', refresh);
      }
    } else if (reason === 'network' || reason === 'timeout') {
      const body = `${name} ${ERROR_WORDS[reason]}`;
      const headline =
        reason === 'network'
          ? `${label} is unreachable (connection refused or lost). Is the server running?`
          : `${label} did not answer in time.`;
      return view('unreachable', body, tooltip(headline, facts, []), 'error', null);
    } else if (reason !== 'aborted') {
      const headline = `the last request to ${label} failed: ${ERROR_WORDS[reason]} (${reason})`;
      return view('error', `${name} ${ERROR_WORDS[reason]}`, tooltip(headline, facts, []), 'error', null);
    }
  }

  if (!context.completionsEnabled) {
    return view('off', 'Completions off', tooltip('inline completions are switched off', facts, []), 'normal', null);
  }

  if (outcome !== null && outcome.record.fromCache) {
    const ageMs = context.nowMs - outcome.finishedAtMs;
    if (ageMs < CACHE_HIT_DISPLAY_MS) {
      const name = shortEndpointName(outcome.endpoint.label);
      const headline = 'the last suggestion came from the completion cache (no request sent)';
      return view('cache-hit', `${name} cached`, tooltip(headline, facts, []), 'normal', CACHE_HIT_DISPLAY_MS - ageMs);
    }
  }

  const served = facts.lastServed;
  if (served === null && facts.configuredEndpoints === 0) {
    const headline =
      'no backend is configured. Run “Latency Copilot: Configure Backends” (or use the simulated backends).';
    return view('not-configured', 'No backend', tooltip(headline, facts, []), 'normal', null);
  }
  if (served === null) {
    return view('no-data', 'Latency Copilot', tooltip('no requests yet', facts, []), 'normal', null);
  }
  const name = shortEndpointName(served.endpoint.label);
  const speed = served.recentDecodeTokensPerSec ?? served.record.stats.decodeTokensPerSec;
  const body = speed === null ? name : `${name} ${formatTokensPerSec(speed)} tok/s`;
  const severity = speedSeverity(speed, context);
  const kind = fallbackKind(served.record.routeReason, served.endpoint);
  if (kind !== null) {
    const reason = served.record.routeReason;
    const words = describeRouteReason(reason);
    const task = taskWord(served.record.task);
    const label = escapeMarkdown(served.endpoint.label);
    const headline =
      kind === 'long-context'
        ? `the long-context fallback (${label}) served the last ${task}`
        : `another burst backend (${label}) served the last ${task}`;
    // The code in a code span: a parsed reason never holds a backtick that would end the span early.
    const why = [`Why: ${escapeMarkdown(words)} (\`${reason}\`).`];
    const spokenSpeed = speed === null ? '' : ` at ${formatTokensPerSec(speed)} tokens per second`;
    const spoken = `${FALLBACK_SPOKEN[kind]}: ${served.endpoint.label} served the last ${task}${spokenSpeed}, because ${words}`;
    return view(
      kind === 'long-context' ? 'fallback' : 'failover',
      `${FALLBACK_PREFIX[kind]}${body}`,
      tooltip(headline, facts, why, true),
      severity,
      null,
      spoken,
    );
  }
  const headline = speed === null ? 'idle' : `idle; recent decode speed ${formatTokensPerSec(speed)} tok/s`;
  return view(served.endpoint.simulated ? 'simulated' : 'idle', body, tooltip(headline, facts, []), severity, null);
}
