import { describe, expect, it } from 'vitest';
import type { EndpointPrice } from '../../../../src/core/cost/costTypes';
import { requestCost, sumCosts } from '../../../../src/core/cost/requestCost';
import type { RequestRecord, RequestStats } from '../../../../src/core/requestStats';
import { requestRecord } from '../../builders/requestRecords';

// Round figures so each expected cost can be checked by hand: $1/M input, $0.25/M cached, $4/M output.
const priced: EndpointPrice = {
  kind: 'priced',
  prices: { inputPerMillion: 1, cachedInputPerMillion: 0.25, outputPerMillion: 4 },
  source: 'preset',
  readOn: '2026-12-03',
};
const noCacheDiscount: EndpointPrice = {
  kind: 'priced',
  prices: { inputPerMillion: 1, cachedInputPerMillion: null, outputPerMillion: 4 },
  source: 'setting',
  readOn: null,
};
const free: EndpointPrice = { kind: 'free', why: 'self-hosted' };
const unknown: EndpointPrice = { kind: 'unknown' };

interface Case {
  readonly name: string;
  readonly price: EndpointPrice;
  readonly record?: Partial<RequestRecord>;
  readonly stats?: Partial<RequestStats>;
  readonly usd: number | null;
  readonly estimated: boolean;
}

const M = 1_000_000;

const cases: readonly Case[] = [
  {
    name: 'tokens written to the provider cache (Anthropic): 1.25x input, marked estimated',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 0, cacheWritePromptTokens: 600, outputTokens: 50 },
    usd: (400 * 1 + 600 * 1.25 + 50 * 4) / M,
    estimated: true,
  },
  {
    name: 'a second question read from the cache: written 0, cached at the cached price, exact',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 600, cacheWritePromptTokens: 0, outputTokens: 50 },
    usd: (400 * 1 + 600 * 0.25 + 50 * 4) / M,
    estimated: false,
  },
  {
    name: 'server counts, cached tokens reported: uncached x input + cached x cached-input + output',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 800, outputTokens: 50 },
    usd: (200 * 1 + 800 * 0.25 + 50 * 4) / M,
    estimated: false,
  },
  {
    name: 'no cached tokens (reported 0): the whole prompt at input',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 0, outputTokens: 50 },
    usd: (1000 + 200) / M,
    estimated: false,
  },
  {
    name: 'cached count missing on a discounting backend: full input, marked estimated (never silently low)',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: null, outputTokens: 50 },
    usd: (1000 + 200) / M,
    estimated: true,
  },
  {
    name: 'cached count missing where cached tokens cost input anyway: exact',
    price: noCacheDiscount,
    stats: { promptTokens: 1000, cachedPromptTokens: null, outputTokens: 50 },
    usd: (1000 + 200) / M,
    estimated: false,
  },
  {
    name: 'cached tokens on a backend without a cached price: charged as input',
    price: noCacheDiscount,
    stats: { promptTokens: 1000, cachedPromptTokens: 800, outputTokens: 50 },
    usd: (1000 + 200) / M,
    estimated: false,
  },
  {
    name: 'a cached count above the prompt count is capped at the prompt',
    price: priced,
    stats: { promptTokens: 100, cachedPromptTokens: 500, outputTokens: 0 },
    usd: (100 * 0.25) / M,
    estimated: false,
  },
  {
    name: 'rejected prediction tokens are billed as output',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 0, outputTokens: 50, rejectedPredictionTokens: 30 },
    usd: (1000 + 80 * 4) / M,
    estimated: false,
  },
  {
    name: 'aborted before the server counted: the router prompt estimate and the streamed tokens, estimated',
    price: priced,
    record: { outcome: 'cancelled', promptTokensEstimate: 1500 },
    stats: { promptTokens: null, cachedPromptTokens: null, outputTokens: 12, tokensSource: 'estimate' },
    usd: (1500 + 12 * 4) / M,
    estimated: true,
  },
  {
    name: 'failed with nothing streamed: the prompt estimate only',
    price: priced,
    record: { outcome: 'error', errorReason: 'timeout', promptTokensEstimate: 1500 },
    stats: { promptTokens: null, cachedPromptTokens: null, outputTokens: 0, tokensSource: 'estimate' },
    usd: 1500 / M,
    estimated: true,
  },
  {
    name: 'no server usage and no prompt estimate (an old history line): output only, estimated',
    price: priced,
    record: { promptTokensEstimate: null },
    stats: { promptTokens: null, cachedPromptTokens: null, outputTokens: 10, tokensSource: 'estimate' },
    usd: 40 / M,
    estimated: true,
  },
  {
    name: 'server prompt counts with tokenizer-counted output: estimated',
    price: priced,
    stats: { promptTokens: 1000, cachedPromptTokens: 0, outputTokens: 50, tokensSource: 'estimate' },
    usd: (1000 + 200) / M,
    estimated: true,
  },
  {
    name: 'the server count wins over the estimate',
    price: priced,
    record: { promptTokensEstimate: 9999 },
    stats: { promptTokens: 1000, cachedPromptTokens: 0, outputTokens: 0 },
    usd: 1000 / M,
    estimated: false,
  },
  {
    name: 'a free backend costs 0',
    price: free,
    stats: { promptTokens: 1000, outputTokens: 50 },
    usd: 0,
    estimated: false,
  },
  {
    name: 'an unknown price is null, never 0',
    price: unknown,
    stats: { promptTokens: 1000, outputTokens: 50 },
    usd: null,
    estimated: false,
  },
  {
    name: 'a completion-cache hit sent nothing: 0 even on an unknown price',
    price: unknown,
    record: { fromCache: true, routeReason: 'cache' },
    stats: { promptTokens: null, outputTokens: 0, tokensSource: 'estimate' },
    usd: 0,
    estimated: false,
  },
];

describe('requestCost', () => {
  it.each(cases)('$name', ({ price, record, stats, usd, estimated }) => {
    const cost = requestCost(requestRecord(record ?? {}, stats ?? {}), price);
    expect(cost.estimated).toBe(estimated);
    if (usd === null) expect(cost.usd).toBeNull();
    else expect(cost.usd).toBeCloseTo(usd, 12);
  });
});

describe('sumCosts', () => {
  it.each([
    { name: 'nothing: 0', costs: [], usd: 0, estimated: false, unknownCount: 0 },
    {
      name: 'known ones add up; an estimate marks the total',
      costs: [
        { usd: 0.5, estimated: false },
        { usd: 0.25, estimated: true },
      ],
      usd: 0.75,
      estimated: true,
      unknownCount: 0,
    },
    {
      name: 'unknown ones are counted apart, not as 0',
      costs: [
        { usd: 0.5, estimated: false },
        { usd: null, estimated: false },
      ],
      usd: 0.5,
      estimated: false,
      unknownCount: 1,
    },
    {
      name: 'all unknown: null',
      costs: [{ usd: null, estimated: false }],
      usd: null,
      estimated: false,
      unknownCount: 1,
    },
  ])('$name', ({ costs, usd, estimated, unknownCount }) => {
    expect(sumCosts(costs)).toEqual({ usd, estimated, unknownCount });
  });
});
