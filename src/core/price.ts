/**
 * What a backend charges, as the kernel's endpoint type carries it. The cost room (`cost/costTypes.ts`) re-exports
 * these with the rest of its vocabulary; they live here because every configured endpoint carries a price and the
 * kernel imports nothing outside itself.
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
