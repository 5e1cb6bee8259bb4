// The model-speed panel's script. It runs in the webview, draws whatever the newest snapshot says, and sends only the
// messages of the panel protocol. It imports TYPES only from src/core: the bundle carries none of the extension's code.
// Text from snapshots (labels, reasons, messages) is put in the page with textContent, never as HTML.
import type {
  BackendDetails,
  EndpointCostSummary,
  EndpointSummary,
  HealthRow,
  HostToWebviewMessage,
  PanelSnapshot,
  Percentiles,
  ProbeRow,
  SpendFigure,
  WebviewToHostMessage,
} from '../../src/core/speed/panelProtocol';
import type { EndpointPrice } from '../../src/core/cost/costTypes';
import type { RequestRecord, RequestTask } from '../../src/core/requestStats';

interface VsCodeApi {
  postMessage(message: WebviewToHostMessage): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** Must equal PANEL_PROTOCOL_VERSION in src/core/speed/panelProtocol.ts (a value import would pull core code into the bundle). */
const SUPPORTED_PROTOCOL_VERSION = 1;
/** Rows of the request log drawn at once (the snapshot carries up to 200). */
const LOG_ROWS = 100;
const SVG_NS = 'http://www.w3.org/2000/svg';
const SERIES_CLASSES = 6;

const vscode = acquireVsCodeApi();

// ---------- small DOM helpers ----------

type Child = Node | string | null | undefined | false;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string>> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    element.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return element;
}

function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attributes: Readonly<Record<string, string | number>> = {},
): SVGElementTagNameMap[K] {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  return element;
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element;
}

// ---------- formatting (kept equal to src/core/speed/statusText.ts by eye: values may not be imported) ----------

function formatRate(value: number | null): string {
  if (value === null) return '–';
  if (value < 10) return value.toFixed(1);
  return Math.round(value).toLocaleString('en-US');
}

function formatMs(value: number | null): string {
  if (value === null) return '–';
  if (value < 10) return `${value.toFixed(1)} ms`;
  if (value < 1_000) return `${Math.round(value)} ms`;
  return `${(value / 1_000).toFixed(2)} s`;
}

function formatCount(value: number | null): string {
  return value === null ? '–' : value.toLocaleString('en-US');
}

/** `1 error`, `2 errors`, `1,204 requests`. */
function countOf(value: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(value)} ${value === 1 ? singular : plural}`;
}

function formatShare(value: number | null): string {
  return value === null ? '–' : `${Math.round(value * 100)}%`;
}

/** Equal to formatUsd in src/core/speed/statusText.ts: fractions of a cent keep two significant digits. */
function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.0001) return '< $0.0001';
  if (usd < 0.01) return `$${Number(usd.toPrecision(2))}`;
  if (usd < 100) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}

function formatTime(epochMs: number): string {
  const date = new Date(epochMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function pair(value: Percentiles | null, format: (n: number) => string): string {
  return value === null ? '–' : `${format(value.p50)} / ${format(value.p95)}`;
}

// ---------- the page shell: built once, so focus and scroll positions survive redraws ----------

function button(
  id: string,
  label: string,
  description: string,
  message: WebviewToHostMessage,
  secondary = false,
): HTMLButtonElement {
  const element = el(
    'button',
    { id, type: 'button', title: description, 'aria-label': `${label}: ${description}` },
    label,
  );
  if (secondary) element.classList.add('secondary');
  element.addEventListener('click', () => vscode.postMessage(message));
  return element;
}

function buildShell(app: HTMLElement): void {
  app.replaceChildren(
    el(
      'header',
      { class: 'toolbar' },
      el('h1', {}, 'Model speed'),
      el('span', { id: 'summary', class: 'muted' }),
      el(
        'div',
        { class: 'actions', role: 'toolbar', 'aria-label': 'Model speed actions' },
        button('probe', 'Probe backends', 'send one small code request to every configured backend and compare them', {
          type: 'runProbe',
        }),
        button(
          'export-json',
          'Export JSON',
          'save the speed history as JSON',
          { type: 'export', format: 'json' },
          true,
        ),
        button('export-csv', 'Export CSV', 'save the speed history as CSV', { type: 'export', format: 'csv' }, true),
        button('reset', 'Reset', 'forget the recorded speed history (asks first)', { type: 'reset' }, true),
      ),
    ),
    el('p', { id: 'notice', class: 'notice', role: 'status', hidden: '' }),
    el('section', { id: 'running', 'aria-label': 'Requests streaming now' }),
    // Probe results come first after a probe: they answer what the person just asked.
    el(
      'section',
      { id: 'probe-section', 'aria-labelledby': 'probe-title', hidden: '' },
      el('h2', { id: 'probe-title' }, 'Probe'),
      el('div', { id: 'probe-results', class: 'scroll-x' }),
    ),
    el(
      'section',
      { 'aria-labelledby': 'backends-title' },
      el('h2', { id: 'backends-title' }, 'Backends'),
      el('div', { id: 'backends', class: 'scroll-x' }),
    ),
    // Next to the backends, as their price sets speed against money; shown once a backend has sent a request.
    el(
      'section',
      { id: 'cost-section', 'aria-labelledby': 'cost-title', hidden: '' },
      el('h2', { id: 'cost-title' }, 'Cost'),
      el('p', { id: 'cost-today', class: 'cost-today' }),
      el('div', { id: 'cost', class: 'scroll-x' }),
      // Small tables side by side: they wrap under each other in a narrow panel.
      el(
        'div',
        { class: 'cost-split' },
        el('div', { id: 'cost-by-task' }),
        el('div', { id: 'cost-by-day' }),
        el('div', { id: 'prompt-cache', class: 'scroll-x' }),
      ),
    ),
    // Shown once a backend has next-edit or predicted-output figures: most sessions never have either.
    el(
      'section',
      { id: 'next-edit-section', 'aria-labelledby': 'next-edit-title', hidden: '' },
      el('h2', { id: 'next-edit-title' }, 'Next edit and predicted outputs'),
      el('div', { id: 'next-edit', class: 'scroll-x' }),
      el('div', { id: 'predictions', class: 'scroll-x' }),
    ),
    el(
      'section',
      { id: 'routing-section', 'aria-labelledby': 'routing-title', hidden: '' },
      el('h2', { id: 'routing-title' }, 'Routing: context windows and health'),
      el('div', { id: 'routing', class: 'scroll-x' }),
    ),
    el(
      'section',
      { 'aria-labelledby': 'charts-title' },
      el('h2', { id: 'charts-title' }, 'Recent requests'),
      el('div', { id: 'legend', class: 'legend' }),
      el('div', { class: 'charts' }, el('figure', { id: 'chart-decode' }), el('figure', { id: 'chart-ttft' })),
    ),
    el(
      'section',
      { 'aria-labelledby': 'log-title' },
      el('h2', { id: 'log-title' }, 'Request log'),
      el('div', { id: 'log', class: 'log', tabindex: '0', role: 'region', 'aria-label': 'Request log, newest first' }),
    ),
  );
  app.setAttribute('aria-busy', 'false');
}

// ---------- sections ----------

function seriesIndex(snapshot: PanelSnapshot): Map<string, number> {
  const index = new Map<string, number>();
  for (const endpoint of snapshot.endpoints) index.set(endpoint.label, index.size);
  for (const record of snapshot.recent)
    if (!index.has(record.endpointLabel)) index.set(record.endpointLabel, index.size);
  return index;
}

function seriesClass(index: number | undefined): string {
  return `series-${(index ?? 0) % SERIES_CLASSES}`;
}

function renderSummary(snapshot: PanelSnapshot): void {
  const totals = snapshot.totals;
  const parts = [
    countOf(totals.requests, 'request'),
    countOf(totals.errors, 'error'),
    countOf(totals.fallbacks, 'fallback'),
    countOf(totals.hedges, 'hedge'),
    totals.cacheHitRate === null ? null : `cache hit rate ${formatShare(totals.cacheHitRate)}`,
    `history ${formatCount(snapshot.historyKept)} of ${formatCount(snapshot.historyCapacity)}`,
  ].filter((part): part is string => part !== null);
  byId('summary').textContent = parts.join(' · ');
  const notice = byId('notice');
  const simulated = snapshot.endpoints.some((endpoint) => endpoint.simulated && endpoint.configured);
  const text = [
    snapshot.notice,
    simulated
      ? 'Simulated backends are in use: these figures come from the built-in simulator, not a real model.'
      : null,
  ]
    .filter((line): line is string => line !== null)
    .join(' ');
  notice.textContent = text;
  notice.hidden = text === '';
}

function renderRunning(snapshot: PanelSnapshot): void {
  const section = byId('running');
  if (snapshot.running.length === 0) {
    section.replaceChildren();
    return;
  }
  section.replaceChildren(
    el(
      'ul',
      { class: 'running' },
      ...snapshot.running.map((row) =>
        el(
          'li',
          {},
          el('span', { class: 'pulse', 'aria-hidden': 'true' }),
          `${row.task} on ${row.endpointLabel ?? 'a backend being chosen'}`,
          row.routeReason === null ? '' : ` (${row.routeReason})`,
          ' — ',
          el(
            'strong',
            {},
            row.liveTokensPerSec === null ? 'waiting for the first token' : `${formatRate(row.liveTokensPerSec)} tok/s`,
          ),
          `, ${formatCount(row.outputTokens)} tokens`,
        ),
      ),
    ),
  );
}

function cell(text: string, className?: string): HTMLTableCellElement {
  return el('td', className === undefined ? {} : { class: className }, text);
}

function headerRow(columns: readonly (readonly [string, string])[]): HTMLTableSectionElement {
  return el('thead', {}, el('tr', {}, ...columns.map(([label, title]) => el('th', { scope: 'col', title }, label))));
}

function errorsText(endpoint: EndpointSummary): string {
  if (endpoint.errors === 0) return '0';
  return endpoint.errorsByReason.map((entry) => `${entry.reason} ${entry.count}`).join(', ');
}

/**
 * VS Code's own wait after a keystroke before it asks the provider, in ms: equal to VSCODE_INLINE_DELAY_MS in
 * src/core/speed/statusText.ts (a value import would pull core code into the bundle).
 */
const VSCODE_INLINE_DELAY_MS = 50;
/** Shown suggestions per backend the figures are taken over: equal to SUGGESTION_WINDOW in src/core/speed/statsHub.ts. */
const SUGGESTION_WINDOW = 500;

/** What a person waits for ghost text: the provider's part (p50 / p95), and below it how much needed no request. */
function keystrokeCell(endpoint: EndpointSummary): HTMLTableCellElement {
  const figures = endpoint.keystrokeToSuggestion;
  if (figures === null) return cell('–', 'num');
  return el(
    'td',
    { class: 'num' },
    pair(figures.latencyMs, (n) => formatMs(n)),
    el('span', { class: 'sub' }, `served from cache ${formatShare(figures.fromCacheShare)}`),
    el(
      'span',
      { class: 'sub' },
      `accepted ${formatCount(figures.accepted)} of ${formatCount(figures.shown)}${figures.shown === 0 ? '' : ` (${formatShare(figures.accepted / figures.shown)})`}`,
    ),
  );
}

function renderBackends(snapshot: PanelSnapshot, series: Map<string, number>): void {
  const container = byId('backends');
  if (snapshot.endpoints.length === 0) {
    container.replaceChildren(
      el(
        'p',
        { class: 'muted' },
        'No backends yet. Run “Latency Copilot: Configure Backends” from the Command Palette.',
      ),
    );
    return;
  }
  const slow = snapshot.slowThresholdTokensPerSec;
  const table = el(
    'table',
    {},
    el(
      'caption',
      { class: 'visually-hidden' },
      'Per backend: keystroke to suggestion (p50 / p95) and the share served from cache, requests, time to first token and decode speed (p50 / p95), prefill, errors, fallbacks, hedges and cache hits',
    ),
    headerRow([
      ['Backend', 'the configured endpoint'],
      [
        'Keystroke to suggestion p50 / p95',
        `VS Code asking for a suggestion to the suggestion handed back, over the last ${SUGGESTION_WINDOW} shown in this session, plus VS Code’s own ${VSCODE_INLINE_DELAY_MS} ms delay before it asks; served from cache: the share that needed no new request`,
      ],
      ['Requests', 'requests sent over the network (cache hits not counted)'],
      ['TTFT p50 / p95', 'request sent to first token'],
      ['Decode tok/s p50 / p95', 'tokens per second after the first token'],
      ['Prefill tok/s', 'prompt tokens per second, when the server reports prompt timing'],
      ['Counted by', 'share of figures from the server’s own token counts (the rest are estimates)'],
      ['Errors', 'failed requests by reason'],
      [
        'Fallbacks',
        'requests routed here by failover, while the preferred backend rested, or because the prompt was too long',
      ],
      ['Hedges', 'hedged copies sent here'],
      ['Cache hits', 'inline completions served from the cache (hit rate)'],
    ]),
    el(
      'tbody',
      {},
      ...snapshot.endpoints.map((endpoint) => {
        const decodeSlow = endpoint.decodeTokensPerSec !== null && endpoint.decodeTokensPerSec.p50 < slow;
        const name = el(
          'th',
          { scope: 'row' },
          el('span', { class: `swatch ${seriesClass(series.get(endpoint.label))}`, 'aria-hidden': 'true' }),
          endpoint.label,
          endpoint.role === 'longContext' ? el('span', { class: 'tag' }, 'long context') : null,
          endpoint.simulated ? el('span', { class: 'tag' }, 'simulated') : null,
          endpoint.configured ? null : el('span', { class: 'tag' }, 'history only'),
        );
        return el(
          'tr',
          {},
          name,
          keystrokeCell(endpoint),
          cell(formatCount(endpoint.requests), 'num'),
          cell(
            pair(endpoint.ttftMs, (n) => formatMs(n)),
            'num',
          ),
          cell(pair(endpoint.decodeTokensPerSec, formatRate), decodeSlow ? 'num slow' : 'num'),
          cell(formatRate(endpoint.prefillTokensPerSec), 'num'),
          cell(
            endpoint.serverCountedShare === null ? '–' : `server ${formatShare(endpoint.serverCountedShare)}`,
            'num',
          ),
          cell(errorsText(endpoint), endpoint.errors > 0 ? 'bad' : undefined),
          cell(formatCount(endpoint.fallbacks), 'num'),
          cell(formatCount(endpoint.hedges), 'num'),
          cell(
            endpoint.cacheHitRate === null
              ? '–'
              : `${formatCount(endpoint.cacheHits)} (${formatShare(endpoint.cacheHitRate)})`,
            'num',
          ),
        );
      }),
    ),
  );
  container.replaceChildren(table);
  if (snapshot.endpoints.some((endpoint) => endpoint.keystrokeToSuggestion !== null)) {
    container.append(
      el(
        'p',
        { class: 'note muted' },
        `Keystroke to suggestion: from VS Code asking for a suggestion to the suggestion handed back, over the last ${SUGGESTION_WINDOW} shown in this session, plus VS Code’s own ${VSCODE_INLINE_DELAY_MS} ms delay before it asks. Served from cache: shown without a new request (from the cache or a stream already running).`,
      ),
    );
  }
}

/** A backend's name cell in the next-edit and predicted-output tables, with its chart colour. */
function backendName(endpoint: EndpointSummary, series: Map<string, number>): HTMLTableCellElement {
  return el(
    'th',
    { scope: 'row' },
    el('span', { class: `swatch ${seriesClass(series.get(endpoint.label))}`, 'aria-hidden': 'true' }),
    endpoint.label,
    endpoint.simulated ? el('span', { class: 'tag' }, 'simulated') : null,
  );
}

/** Applied as a share of what was shown: how often a prediction was worth its Tab. */
function appliedText(applied: number, shown: number): string {
  return shown === 0 ? formatCount(applied) : `${formatCount(applied)} (${formatShare(applied / shown)})`;
}

function renderNextEdit(snapshot: PanelSnapshot, series: Map<string, number>): void {
  const nextEditRows = snapshot.endpoints.filter((endpoint) => endpoint.nextEdit !== null);
  const predictionRows = snapshot.endpoints.filter((endpoint) => endpoint.predictions !== null);
  byId('next-edit-section').hidden = nextEditRows.length === 0 && predictionRows.length === 0;
  const nextEdit = byId('next-edit');
  if (nextEditRows.length === 0) nextEdit.replaceChildren();
  else {
    nextEdit.replaceChildren(
      el('h3', {}, 'Next edit'),
      el(
        'table',
        {},
        el(
          'caption',
          { class: 'visually-hidden' },
          'Next-edit suggestions per backend: requests, predictions shown, applied and dismissed, and the time from the edit to the first hunk shown (p50 / p95) and to the whole region (p50)',
        ),
        headerRow([
          ['Backend', 'the backend that predicted the edits'],
          ['Requests', 'next-edit requests sent (kept history)'],
          ['Shown', 'predictions whose first hunk was shown, this session'],
          ['Applied', 'predicted hunks applied with Tab, this session (share of shown)'],
          ['Dismissed', 'predicted hunks dismissed with Escape or by typing elsewhere, this session'],
          ['Edit to first hunk p50 / p95', 'from the edit to the first changed hunk on screen'],
          ['Edit to whole region p50', 'from the edit to the whole rewritten region received'],
        ]),
        el(
          'tbody',
          {},
          ...nextEditRows.map((endpoint) => {
            const figures = endpoint.nextEdit;
            if (figures === null) return el('tr', {});
            return el(
              'tr',
              {},
              backendName(endpoint, series),
              cell(formatCount(figures.requests), 'num'),
              cell(formatCount(figures.shown), 'num'),
              cell(appliedText(figures.applied, figures.shown), 'num'),
              cell(formatCount(figures.dismissed), 'num'),
              cell(
                pair(figures.firstHunkMs, (n) => formatMs(n)),
                'num',
              ),
              cell(formatMs(figures.wholeRegionMs?.p50 ?? null), 'num'),
            );
          }),
        ),
      ),
    );
  }
  const predictions = byId('predictions');
  if (predictionRows.length === 0) {
    predictions.replaceChildren();
    return;
  }
  predictions.replaceChildren(
    el('h3', {}, 'Predicted outputs'),
    el(
      'table',
      {},
      el(
        'caption',
        { class: 'visually-hidden' },
        'Predicted outputs per backend: requests that carried the expected output, prediction tokens accepted and rejected, and the effective decode speed beside the plain one',
      ),
      headerRow([
        ['Backend', 'the backend the expected output was sent to'],
        ['Predicted requests', 'requests that sent the expected output and had it used'],
        ['Accepted tokens', 'prediction tokens the answers repeated (streamed faster)'],
        ['Rejected tokens', 'prediction tokens the answers did not use: billed, never received'],
        ['Effective tok/s p50 / p95', 'the answer’s own tokens per second of decode, rejected tokens left out'],
        ['Decode tok/s p50, all requests', 'this backend’s decode speed over all its requests, for comparison'],
      ]),
      el(
        'tbody',
        {},
        ...predictionRows.map((endpoint) => {
          const figures = endpoint.predictions;
          if (figures === null) return el('tr', {});
          const used = figures.acceptedTokens + figures.rejectedTokens;
          return el(
            'tr',
            {},
            backendName(endpoint, series),
            cell(formatCount(figures.requests), 'num'),
            cell(
              used === 0
                ? formatCount(figures.acceptedTokens)
                : `${formatCount(figures.acceptedTokens)} (${formatShare(figures.acceptedTokens / used)})`,
              'num',
            ),
            cell(
              formatCount(figures.rejectedTokens),
              figures.rejectedTokens > figures.acceptedTokens ? 'num slow' : 'num',
            ),
            cell(pair(figures.effectiveTokensPerSec, formatRate), 'num'),
            cell(formatRate(endpoint.decodeTokensPerSec?.p50 ?? null), 'num muted'),
          );
        }),
      ),
    ),
  );
}

// ---------- cost ----------

const TASK_WORDS: Readonly<Record<RequestTask, string>> = {
  inline: 'Inline',
  'next-edit': 'Next edit',
  refactor: 'Refactor',
  repo: 'Repository',
  probe: 'Probe',
};

/** An estimate is labelled where it is shown, so a figure resting on a guessed count never reads as exact. */
function estimatedTag(): HTMLSpanElement {
  return el(
    'span',
    { class: 'tag', title: 'some token counts were estimated (the server did not report them)' },
    'estimated',
  );
}

/** A spend cell: the known dollars, labelled when estimated, and how many requests had no known price. */
function spendCell(spend: SpendFigure): HTMLTableCellElement {
  if (spend.pricedRequests === 0) {
    return el(
      'td',
      { class: 'num muted' },
      spend.unknownRequests === 0 ? '–' : `unknown (${countOf(spend.unknownRequests, 'request')})`,
    );
  }
  return el(
    'td',
    { class: 'num' },
    formatUsd(spend.usd),
    spend.estimated ? estimatedTag() : null,
    spend.unknownRequests > 0
      ? el('span', { class: 'sub' }, `+ unknown for ${countOf(spend.unknownRequests, 'request')}`)
      : null,
  );
}

/** What the backend charges per million tokens (input / cached input / output) and where the figures come from. */
function priceCell(price: EndpointPrice): HTMLTableCellElement {
  switch (price.kind) {
    case 'free': {
      const why =
        price.why === 'local-engine' ? 'built-in engine' : price.why === 'self-hosted' ? 'self-hosted' : 'simulated';
      return el('td', { class: 'num' }, 'free', el('span', { class: 'sub' }, why));
    }
    case 'unknown':
      return el('td', { class: 'num muted', title: 'set its prices in the endpoint’s settings' }, 'unknown');
    case 'priced': {
      const { inputPerMillion, cachedInputPerMillion, outputPerMillion } = price.prices;
      const cached = cachedInputPerMillion === null ? '' : ` · cached ${formatUsd(cachedInputPerMillion)}`;
      const source = price.source === 'setting' ? 'your setting' : `published, read ${price.readOn ?? '?'}`;
      return el(
        'td',
        { class: 'num' },
        `in ${formatUsd(inputPerMillion)}${cached} · out ${formatUsd(outputPerMillion)}`,
        el('span', { class: 'sub' }, source),
      );
    }
  }
}

/** A dollar figure that is null when no cost is known or nothing was shown; an unknown price says so. */
function costFigure(value: number | null, price: EndpointPrice): HTMLTableCellElement {
  if (value !== null) return cell(formatUsd(value), 'num');
  return cell(price.kind === 'unknown' ? 'unknown' : '–', 'num muted');
}

function speedPerDollarCell(cost: EndpointCostSummary): HTMLTableCellElement {
  if (cost.tokensPerSecPerDollar !== null) return cell(formatRate(cost.tokensPerSecPerDollar), 'num');
  return cell(cost.price.kind === 'free' ? 'free' : cost.price.kind === 'unknown' ? 'unknown' : '–', 'num muted');
}

function renderCost(snapshot: PanelSnapshot, series: Map<string, number>): void {
  const costRows = snapshot.endpoints.flatMap((endpoint) =>
    endpoint.cost === null ? [] : [{ endpoint, cost: endpoint.cost }],
  );
  byId('cost-section').hidden = costRows.length === 0;
  const today = byId('cost-today');
  const byTask = byId('cost-by-task');
  const byDay = byId('cost-by-day');
  const container = byId('cost');
  if (costRows.length === 0) {
    today.replaceChildren();
    container.replaceChildren();
    byTask.replaceChildren();
    byDay.replaceChildren();
    renderPromptCache(snapshot, series);
    return;
  }
  const totals = snapshot.cost;
  const todaySpend = totals.todaySpend;
  // One span holds the parts, as `el` leaves out the ones that do not apply.
  today.replaceChildren(
    el(
      'span',
      {},
      el('strong', {}, 'Today: '),
      todaySpend === null
        ? 'nothing yet'
        : todaySpend.pricedRequests === 0
          ? `unknown for ${countOf(todaySpend.unknownRequests, 'request')}`
          : formatUsd(todaySpend.usd),
      todaySpend?.estimated === true ? estimatedTag() : null,
      todaySpend !== null && todaySpend.pricedRequests > 0 && todaySpend.unknownRequests > 0
        ? el('span', { class: 'muted' }, ` + unknown for ${countOf(todaySpend.unknownRequests, 'request')}`)
        : null,
      el('span', { class: 'muted' }, ` · kept history: ${formatUsd(totals.total.usd)}`),
      totals.total.unknownRequests > 0
        ? el('span', { class: 'muted' }, ` + unknown for ${countOf(totals.total.unknownRequests, 'request')}`)
        : null,
    ),
  );
  container.replaceChildren(
    el(
      'table',
      {},
      el(
        'caption',
        { class: 'visually-hidden' },
        'Cost per backend: its price per million tokens, the spend over the kept history, the mean per request, per shown suggestion and per applied next edit (this session), the share spent on requests that showed nothing, and decode speed per dollar',
      ),
      headerRow([
        ['Backend', 'the configured endpoint'],
        [
          'Price per M tokens',
          'US dollars per million input, cached input and output tokens, and where the figures come from',
        ],
        ['Spent', 'every request sent, cancelled, failed and hedged ones included (providers bill a prompt they read)'],
        ['Per request', 'mean over requests with a known price'],
        ['Per shown', 'this session’s inline and next-edit spend over the suggestions shown this session'],
        [
          'Per accepted',
          'this session’s inline and next-edit spend per suggestion accepted with Tab (ghost text taken, or a predicted hunk applied)',
        ],
        [
          'Showed nothing',
          'share of the spend on requests that were cancelled, failed or returned no text (a finished answer never shown counts as shown)',
        ],
        ['Decode tok/s per $/M', 'decode speed (p50) per dollar per million output tokens: speed per dollar'],
      ]),
      el(
        'tbody',
        {},
        ...costRows.map(({ endpoint, cost }) =>
          el(
            'tr',
            {},
            backendName(endpoint, series),
            priceCell(cost.price),
            spendCell(cost.spend),
            costFigure(cost.perRequestUsd, cost.price),
            costFigure(cost.perShownUsd, cost.price),
            costFigure(cost.perAcceptedUsd, cost.price),
            cell(
              formatShare(cost.wastedShare),
              cost.wastedShare !== null && cost.wastedShare > 0.5 ? 'num slow' : 'num',
            ),
            speedPerDollarCell(cost),
          ),
        ),
      ),
    ),
  );
  byTask.replaceChildren(
    el(
      'table',
      { class: 'compact' },
      el('caption', {}, 'Spend by task'),
      el(
        'tbody',
        {},
        ...totals.byTask.map((entry) =>
          el('tr', {}, el('th', { scope: 'row' }, TASK_WORDS[entry.task]), spendCell(entry.spend)),
        ),
      ),
    ),
  );
  byDay.replaceChildren(
    el(
      'table',
      { class: 'compact' },
      el('caption', {}, 'Spend by day'),
      el(
        'tbody',
        {},
        ...totals.byDay.map((entry) =>
          el(
            'tr',
            {},
            el('th', { scope: 'row' }, entry.day === totals.today ? 'Today' : entry.day),
            spendCell(entry.spend),
          ),
        ),
      ),
    ),
  );
  renderPromptCache(snapshot, series);
}

function renderPromptCache(snapshot: PanelSnapshot, series: Map<string, number>): void {
  const container = byId('prompt-cache');
  const rows = snapshot.endpoints.flatMap((endpoint) =>
    endpoint.promptCache === null ? [] : [{ endpoint, cache: endpoint.promptCache }],
  );
  if (rows.length === 0) {
    container.replaceChildren();
    return;
  }
  container.replaceChildren(
    el(
      'table',
      {
        class: 'compact',
        title:
          'The provider’s prompt cache per backend whose server reports cached prompt tokens: the share of prompt tokens served from it, and the time to first token of requests that hit it (more than half the prompt cached) and of those that did not',
      },
      el('caption', {}, 'Prompt cache'),
      headerRow([
        ['Backend', 'backends whose server reports cached prompt tokens'],
        ['Cached prompt tokens', 'prompt tokens the provider served from its cache, of all prompt tokens (the share)'],
        ['Hits', 'requests with more than half their prompt served from cache, of the requests that reported it'],
        ['TTFT p50 hit', 'time to first token of the requests that hit the cache, and below it of those that did not'],
      ]),
      el(
        'tbody',
        {},
        ...rows.map(({ endpoint, cache }) =>
          el(
            'tr',
            {},
            backendName(endpoint, series),
            el(
              'td',
              { class: 'num' },
              `${formatCount(cache.cachedPromptTokens)} of ${formatCount(cache.promptTokens)}`,
              el('span', { class: 'sub' }, `${formatShare(cache.hitShare)} from cache`),
            ),
            cell(`${formatCount(cache.hits)} of ${formatCount(cache.requests)}`, 'num'),
            el(
              'td',
              { class: 'num' },
              formatMs(cache.ttftHitMs),
              el('span', { class: 'sub' }, `${formatMs(cache.ttftMissMs)} without`),
            ),
          ),
        ),
      ),
    ),
  );
}

function contextSourceText(details: BackendDetails): string {
  switch (details.contextWindow.source) {
    case 'endpoint':
      return `the endpoint said so (${details.contextWindow.detail})`;
    case 'configured':
      return `the preset or setting (${details.contextWindow.detail})`;
    case 'unknown':
      return details.contextWindow.detail;
  }
}

/** Seconds left until `epochMs`, rounded up; 0 once it has passed. */
function secondsUntil(epochMs: number): number {
  return Math.max(0, Math.ceil((epochMs - Date.now()) / 1_000));
}

/** True once routed requests taught the router something about the backend (a first token or a failure). */
function routed(health: HealthRow): boolean {
  return (
    health.ttftSamples > 0 ||
    health.errorRate > 0 ||
    health.consecutiveFailures > 0 ||
    health.decodeTokensPerSec !== null
  );
}

/** The breaker state as the person should read it now: a rest that ended since the snapshot shows as a trial. */
function healthText(health: HealthRow): { readonly text: string; readonly className: string | undefined } {
  const cause = health.restCause === null ? '' : ` (${health.restCause})`;
  const restingFor = health.restUntilEpochMs === null ? 0 : secondsUntil(health.restUntilEpochMs);
  if (health.state === 'open' && health.restUntilEpochMs !== null && restingFor > 0) {
    return {
      text: `resting until ${formatTime(health.restUntilEpochMs)}, ${restingFor} s left${cause}`,
      className: 'bad',
    };
  }
  if (health.state !== 'closed') return { text: `rest over: the next request is a trial${cause}`, className: 'slow' };
  if (health.consecutiveFailures > 0) {
    const failures = health.consecutiveFailures === 1 ? '1 failure' : `${health.consecutiveFailures} failures in a row`;
    return { text: `in use, ${failures}`, className: 'slow' };
  }
  // Routed requests teach the router; the probe does not go through it.
  if (!routed(health)) return { text: 'available, no routed requests yet', className: undefined };
  return { text: 'healthy', className: 'good' };
}

let restCountdown: ReturnType<typeof setTimeout> | undefined;

function renderRouting(snapshot: PanelSnapshot): void {
  clearTimeout(restCountdown);
  const section = byId('routing-section');
  section.hidden = snapshot.details.length === 0;
  if (snapshot.details.length === 0) return;
  const routerKnown = snapshot.details.some((details) => details.health !== null);
  byId('routing').replaceChildren(
    el(
      'table',
      {},
      el(
        'caption',
        { class: 'visually-hidden' },
        'Per backend: the context window the router uses and where it came from, and the router’s health estimate',
      ),
      headerRow([
        ['Backend', 'the configured endpoint'],
        ['Context window', 'tokens the router fits prompt and answer into'],
        ['From', 'where the context window figure came from'],
        ['Health', 'the router’s circuit breaker: in use, resting (and why, until when), or about to try again'],
        ['TTFT p50 / p95', 'the router’s rolling time to first token (p95 once enough requests were seen)'],
        ['Decode tok/s', 'the router’s rolling decode speed'],
        ['Error rate', 'the router’s rolling share of failed requests'],
      ]),
      el(
        'tbody',
        {},
        ...snapshot.details.map((details) => {
          const health = details.health;
          const state =
            health === null ? { text: routerKnown ? '–' : 'not known', className: 'muted' } : healthText(health);
          return el(
            'tr',
            {},
            el('th', { scope: 'row' }, details.label),
            cell(
              details.contextWindow.tokens === null ? 'unknown' : `${formatCount(details.contextWindow.tokens)}`,
              'num',
            ),
            cell(contextSourceText(details), details.contextWindow.source === 'unknown' ? 'muted wrap' : 'wrap'),
            cell(state.text, state.className === undefined ? 'wrap' : `${state.className} wrap`),
            cell(health === null ? '–' : `${formatMs(health.ttftP50Ms)} / ${formatMs(health.ttftP95Ms)}`, 'num'),
            cell(formatRate(health?.decodeTokensPerSec ?? null), 'num'),
            cell(
              health === null || !routed(health) ? '–' : formatShare(health.errorRate),
              health !== null && health.errorRate >= 0.2 ? 'num bad' : 'num',
            ),
          );
        }),
      ),
    ),
  );
  // A resting backend counts down once a second here; the host sends a new snapshot only when something happens.
  const resting = snapshot.details.some((details) => {
    const until = details.health?.restUntilEpochMs ?? null;
    return until !== null && secondsUntil(until) > 0;
  });
  if (resting) restCountdown = setTimeout(() => renderRouting(snapshot), 1_000);
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

interface ChartSpec {
  readonly figureId: string;
  readonly title: string;
  readonly unit: string;
  readonly value: (record: RequestRecord) => number | null;
  readonly format: (value: number) => string;
  /** Axis ticks are round numbers: no decimals. */
  readonly formatTick: (value: number) => string;
  readonly threshold: number | null;
}

function renderChart(snapshot: PanelSnapshot, series: Map<string, number>, spec: ChartSpec): void {
  const figure = byId(spec.figureId);
  const points = snapshot.recent
    .map((record, index) => ({ record, index, value: record.fromCache ? null : spec.value(record) }))
    .filter((point): point is { record: RequestRecord; index: number; value: number } => point.value !== null);
  const width = Math.max(220, Math.floor(figure.clientWidth || 320));
  const height = 150;
  const margin = { left: 48, right: 8, top: 10, bottom: 18 };
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const maxValue = niceMax(Math.max(spec.threshold ?? 0, ...points.map((point) => point.value)));
  const count = Math.max(2, snapshot.recent.length);
  const x = (index: number) => margin.left + (plotWidth * index) / (count - 1);
  const y = (value: number) => margin.top + plotHeight - (plotHeight * Math.min(value, maxValue)) / maxValue;

  const medians = [...series.entries()]
    .map(([label]) => {
      const values = points
        .filter((point) => point.record.endpointLabel === label)
        .map((point) => point.value)
        .sort((a, b) => a - b);
      const median = values[Math.floor((values.length - 1) / 2)];
      return median === undefined ? null : `${label} median ${spec.format(median)} ${spec.unit}`;
    })
    .filter((text): text is string => text !== null);
  const description =
    points.length === 0
      ? `${spec.title}: no data yet.`
      : `${spec.title}, last ${snapshot.recent.length} requests: ${medians.join('; ')}.`;

  const chart = svg('svg', {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    role: 'img',
    'aria-label': description,
    class: 'chart',
  });
  for (const fraction of [0, 0.5, 1]) {
    const value = maxValue * fraction;
    chart.append(svg('line', { x1: margin.left, x2: width - margin.right, y1: y(value), y2: y(value), class: 'grid' }));
    const label = svg('text', { x: margin.left - 6, y: y(value) + 4, class: 'axis', 'text-anchor': 'end' });
    label.textContent = spec.formatTick(value);
    chart.append(label);
  }
  if (spec.threshold !== null && spec.threshold > 0) {
    chart.append(
      svg('line', {
        x1: margin.left,
        x2: width - margin.right,
        y1: y(spec.threshold),
        y2: y(spec.threshold),
        class: 'threshold',
      }),
    );
    const label = svg('text', {
      x: margin.left + 4,
      y: y(spec.threshold) - 3,
      class: 'axis threshold-label',
      'text-anchor': 'start',
    });
    label.textContent = `slow below ${spec.format(spec.threshold)}`;
    chart.append(label);
  }
  for (const [label, indexOfSeries] of series) {
    const own = points.filter((point) => point.record.endpointLabel === label);
    if (own.length === 0) continue;
    const className = seriesClass(indexOfSeries);
    if (own.length > 1) {
      const path = own.map((point) => `${x(point.index).toFixed(1)},${y(point.value).toFixed(1)}`).join(' ');
      chart.append(svg('polyline', { points: path, class: `line ${className}` }));
    }
    for (const point of own) {
      const dot = svg('circle', { cx: x(point.index), cy: y(point.value), r: 2.5, class: `dot ${className}` });
      const tip = svg('title');
      tip.textContent = `${formatTime(point.record.startedAtEpochMs)} ${label}: ${spec.format(point.value)} ${spec.unit}`;
      dot.append(tip);
      chart.append(dot);
    }
  }
  const axis = svg('text', { x: margin.left, y: height - 4, class: 'axis' });
  axis.textContent = points.length === 0 ? 'no requests yet' : 'older → newer';
  chart.append(axis);
  figure.replaceChildren(el('figcaption', {}, `${spec.title} (${spec.unit})`), chart);
}

function renderLegend(series: Map<string, number>): void {
  byId('legend').replaceChildren(
    ...[...series.entries()].map(([label, index]) =>
      el(
        'span',
        { class: 'legend-item' },
        el('span', { class: `swatch ${seriesClass(index)}`, 'aria-hidden': 'true' }),
        label,
      ),
    ),
  );
}

function probeStatusText(row: ProbeRow): string {
  switch (row.status) {
    case 'pending':
      return 'waiting';
    case 'running':
      return 'probing…';
    case 'ok':
      return 'ok';
    case 'error':
      return row.errorReason ?? 'error';
  }
}

function renderProbe(snapshot: PanelSnapshot): void {
  const probe = snapshot.probe;
  const section = byId('probe-section');
  const probeButton = byId('probe');
  if (probeButton instanceof HTMLButtonElement) {
    const done = probe.rows.filter((row) => row.status === 'ok' || row.status === 'error').length;
    probeButton.disabled = probe.running || !probe.available;
    probeButton.textContent = probe.running ? `Probing… (${done}/${probe.rows.length})` : 'Probe backends';
    if (!probe.available) probeButton.title = 'Probing is not available in this build yet';
  }
  section.hidden = probe.rows.length === 0;
  if (probe.rows.length === 0) return;
  const started = probe.startedAtEpochMs === null ? '' : ` at ${formatTime(probe.startedAtEpochMs)}`;
  byId('probe-title').textContent = probe.running
    ? `Probe (running, started${started})`
    : `Probe results (started${started})`;
  byId('probe-results').replaceChildren(
    el(
      'table',
      {},
      el('caption', { class: 'visually-hidden' }, 'Probe results, one backend per row'),
      headerRow([
        ['Backend', 'the configured endpoint'],
        ['Status', 'probe state or failure reason'],
        ['TTFT', 'request sent to first token'],
        ['Decode tok/s', 'tokens per second after the first token'],
        ['Tokens', 'output tokens (server count or estimate)'],
        ['Context', 'context window in tokens, as configured or detected'],
        ['FIM', 'fill-in-the-middle path'],
        ['Note', 'what went wrong, when something did'],
      ]),
      el(
        'tbody',
        {},
        ...probe.rows.map((row) =>
          el(
            'tr',
            {},
            el('th', { scope: 'row' }, row.label),
            cell(probeStatusText(row), row.status === 'error' ? 'bad' : row.status === 'ok' ? 'good' : 'muted'),
            cell(formatMs(row.ttftMs), 'num'),
            cell(formatRate(row.decodeTokensPerSec), 'num'),
            cell(
              row.outputTokens === null
                ? '–'
                : `${formatCount(row.outputTokens)}${row.tokensSource === 'estimate' ? ' (est.)' : ''}`,
              'num',
            ),
            cell(formatCount(row.contextWindow), 'num'),
            cell(row.fim ?? '–'),
            cell(row.message ?? ''),
          ),
        ),
      ),
    ),
  );
}

function outcomeText(record: RequestRecord): string {
  if (record.fromCache) return 'cache hit';
  if (record.outcome === 'error') return `error: ${record.errorReason ?? 'unknown'}`;
  return record.outcome;
}

function renderLog(snapshot: PanelSnapshot): void {
  const container = byId('log');
  const rows = snapshot.recent.slice(-LOG_ROWS).reverse();
  if (rows.length === 0) {
    container.replaceChildren(el('p', { class: 'muted' }, 'No requests yet.'));
    return;
  }
  const slow = snapshot.slowThresholdTokensPerSec;
  container.replaceChildren(
    el(
      'table',
      {},
      el('caption', { class: 'visually-hidden' }, 'Recent requests, newest first'),
      headerRow([
        ['Time', 'when the request started'],
        ['Task', 'inline completion, next edit, refactor, repository task or probe'],
        ['Backend', 'which backend served it'],
        ['Route', 'why the router chose that backend'],
        ['TTFT', 'request sent to first token'],
        ['tok/s', 'decode speed after the first token'],
        ['Tokens', 'output tokens (est. = estimated)'],
        ['Outcome', 'ok, cancelled, cache hit, or the error reason'],
      ]),
      el(
        'tbody',
        {},
        ...rows.map((record) => {
          const decode = record.stats.decodeTokensPerSec;
          return el(
            'tr',
            {},
            cell(formatTime(record.startedAtEpochMs)),
            cell(record.task),
            cell(record.endpointLabel),
            cell(record.routeReason),
            cell(formatMs(record.stats.ttftMs), 'num'),
            cell(formatRate(decode), decode !== null && decode < slow ? 'num slow' : 'num'),
            cell(
              `${formatCount(record.stats.outputTokens)}${record.stats.tokensSource === 'estimate' ? ' est.' : ''}`,
              'num',
            ),
            cell(outcomeText(record), record.outcome === 'error' ? 'bad' : undefined),
          );
        }),
      ),
    ),
  );
}

// ---------- the message loop ----------

let latest: PanelSnapshot | null = null;

function render(snapshot: PanelSnapshot): void {
  const series = seriesIndex(snapshot);
  renderSummary(snapshot);
  renderRunning(snapshot);
  renderBackends(snapshot, series);
  renderNextEdit(snapshot, series);
  renderCost(snapshot, series);
  renderRouting(snapshot);
  renderLegend(series);
  renderChart(snapshot, series, {
    figureId: 'chart-decode',
    title: 'Decode speed',
    unit: 'tok/s',
    value: (record) => record.stats.decodeTokensPerSec,
    format: formatRate,
    formatTick: (value) => Math.round(value).toLocaleString('en-US'),
    threshold: snapshot.slowThresholdTokensPerSec,
  });
  renderChart(snapshot, series, {
    figureId: 'chart-ttft',
    title: 'Time to first token',
    unit: 'ms',
    value: (record) => record.stats.ttftMs,
    format: (value) => (value < 10 ? value.toFixed(1) : Math.round(value).toLocaleString('en-US')),
    formatTick: (value) => Math.round(value).toLocaleString('en-US'),
    threshold: null,
  });
  renderProbe(snapshot);
  renderLog(snapshot);
}

function isHostMessage(value: unknown): value is HostToWebviewMessage {
  return (
    typeof value === 'object' && value !== null && 'type' in value && value.type === 'snapshot' && 'snapshot' in value
  );
}

function start(): void {
  const app = byId('app');
  buildShell(app);
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    const message = event.data;
    if (!isHostMessage(message)) return;
    if (message.snapshot.protocolVersion !== SUPPORTED_PROTOCOL_VERSION) {
      byId('notice').textContent = 'This panel is out of date; reload the window.';
      byId('notice').hidden = false;
      return;
    }
    latest = message.snapshot;
    render(latest);
  });
  // Charts are drawn in pixels; redraw them when the view is resized.
  let resizeFrame = 0;
  let drawnWidth = app.clientWidth;
  new ResizeObserver(() => {
    if (app.clientWidth === drawnWidth) return;
    drawnWidth = app.clientWidth;
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(() => {
      if (latest !== null) render(latest);
    });
  }).observe(app);
  vscode.postMessage({ type: 'ready' });
}

start();
