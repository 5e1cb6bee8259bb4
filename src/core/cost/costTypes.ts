/**
 * The vocabulary of cost: what a backend charges, what a request cost, and the daily budget's stages. Prices are US
 * dollars per million tokens, as providers publish them.
 */

/** What a backend charges, in US dollars per million tokens. */
export interface TokenPrices {
  readonly inputPerMillion: number;
  /** Prompt tokens served from the provider's cache; null when the provider does not discount them (charged as input). */
  readonly cachedInputPerMillion: number | null;
  readonly outputPerMillion: number;
}

/** What a backend costs, and where that comes from. An unknown price is never shown as zero. */
export type EndpointPrice =
  /** Nothing to pay per token: the extension's own engine, a server on this machine or the simulator. */
  | { readonly kind: 'free'; readonly why: 'local-engine' | 'self-hosted' | 'simulated' }
  | {
      readonly kind: 'priced';
      readonly prices: TokenPrices;
      /** `preset`: the provider's published prices as read on `readOn`; `setting`: the person's own figures. */
      readonly source: 'preset' | 'setting';
      /** ISO date (YYYY-MM-DD) the preset's prices were read; null for a setting. */
      readonly readOn: string | null;
    }
  | { readonly kind: 'unknown' };

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
