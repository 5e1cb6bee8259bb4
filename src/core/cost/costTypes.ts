/**
 * The vocabulary of cost: what a backend charges, what a request cost, and the daily budget's stages. Prices are US
 * dollars per million tokens, as providers publish them.
 */

// Prices are part of every configured endpoint, so they are defined in the kernel and re-exported here with the rest
// of the vocabulary: import them from either place.
export type { EndpointPrice, TokenPrices } from '../price';

/** What one request cost. */
export interface RequestCost {
  /** US dollars; null when the backend's price is unknown. 0 for a free backend. */
  readonly usd: number | null;
  /** True when a count behind it was estimated (no server usage, or cached prompt tokens not reported). */
  readonly estimated: boolean;
}

/**
 * How far the daily budget has been spent, and what the extension holds back because of it, in order: hedged and
 * speculative requests (and next edits requested ahead) stop first; then inline completions and next edits wait for a
 * pause in typing; then they go to the cheapest healthy backend. Repository tasks ask before going past the budget.
 */
export type BudgetStage = 'normal' | 'no-speculation' | 'typing-pause' | 'cheapest';
