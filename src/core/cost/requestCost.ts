import type { RequestRecord } from '../requestStats';
import type { EndpointPrice, RequestCost, TokenPrices } from './costTypes';

const PER_MILLION = 1_000_000;

/**
 * Prompt tokens written to a provider's cache cost more than input: Anthropic bills a five-minute cache write at 1.25x
 * the input price (an hour's at 2x). No preset states its write price, so writes are charged at 1.25x and the cost is
 * marked estimated.
 */
const CACHE_WRITE_FACTOR = 1.25;

/**
 * What one request cost at `price`, from the server's token counts where it gave them.
 *
 * - Prompt: uncached tokens at the input price, cached ones at the cached-input price (the input price when the
 *   provider does not discount them). When the server reported prompt tokens but no cached count and the backend
 *   discounts cached tokens, the whole prompt is charged at the input price and the cost marked estimated: an upper
 *   bound, never silently low.
 * - An attempt that ended before the server counted its prompt (aborted, hedged, failed) is charged the router's
 *   prompt estimate: providers bill an aborted request's prompt. Marked estimated.
 * - Prompt tokens written to the provider's cache (Anthropic reports them) are charged at `CACHE_WRITE_FACTOR` x the
 *   input price and the cost marked estimated.
 * - Output: the answer's tokens plus rejected prediction tokens, which the provider bills as output though they are
 *   not part of the answer. Marked estimated when the extension's tokenizer counted them.
 * - A cache hit sent nothing and costs 0. A free backend costs 0; an unknown price gives `usd: null`.
 */
export function requestCost(record: RequestRecord, price: EndpointPrice): RequestCost {
  if (record.fromCache) return { usd: 0, estimated: false };
  switch (price.kind) {
    case 'free':
      return { usd: 0, estimated: false };
    case 'unknown':
      return { usd: null, estimated: false };
    case 'priced':
      return pricedCost(record, price.prices);
  }
}

function pricedCost(record: RequestRecord, prices: TokenPrices): RequestCost {
  const stats = record.stats;
  const cachedPrice = prices.cachedInputPerMillion ?? prices.inputPerMillion;
  let estimated = false;
  let promptUsd: number;
  if (stats.promptTokens !== null) {
    if (stats.cachedPromptTokens !== null) {
      const cached = Math.min(stats.cachedPromptTokens, stats.promptTokens);
      const written = Math.min(stats.cacheWritePromptTokens ?? 0, stats.promptTokens - cached);
      promptUsd =
        (stats.promptTokens - cached - written) * prices.inputPerMillion +
        cached * cachedPrice +
        written * prices.inputPerMillion * CACHE_WRITE_FACTOR;
      if (written > 0) estimated = true;
    } else {
      promptUsd = stats.promptTokens * prices.inputPerMillion;
      // Some of the prompt may have been served from cache at a lower price: the full price is an upper bound.
      if (cachedPrice !== prices.inputPerMillion) estimated = true;
    }
  } else {
    // No server count: the router's estimate, or nothing at all for a record from before it was kept.
    promptUsd = (record.promptTokensEstimate ?? 0) * prices.inputPerMillion;
    estimated = true;
  }
  const outputTokens = stats.outputTokens + (stats.rejectedPredictionTokens ?? 0);
  if (stats.tokensSource === 'estimate') estimated = true;
  const usd = (promptUsd + outputTokens * prices.outputPerMillion) / PER_MILLION;
  return { usd, estimated };
}

/** Several requests' costs added up. */
export interface CostTotal extends RequestCost {
  /** Requests whose backend's price is unknown: left out of `usd`, so a total is never shown without saying so. */
  readonly unknownCount: number;
}

/**
 * The sum of `costs`: `usd` adds the known ones and is null only when every one is unknown (0 for none at all);
 * `estimated` when any known one is.
 */
export function sumCosts(costs: Iterable<RequestCost>): CostTotal {
  let usd = 0;
  let known = 0;
  let unknownCount = 0;
  let estimated = false;
  for (const cost of costs) {
    if (cost.usd === null) {
      unknownCount++;
      continue;
    }
    usd += cost.usd;
    known++;
    if (cost.estimated) estimated = true;
  }
  return { usd: known === 0 && unknownCount > 0 ? null : usd, estimated, unknownCount };
}
