/** Milliseconds per unit, largest first: the order formatDuration writes them in. */
export const UNITS: ReadonlyArray<readonly [unit: string, ms: number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1_000],
  ['ms', 1],
];

const MS_PER_UNIT: ReadonlyMap<string, number> = new Map(UNITS);

/**
 * Reads a duration such as "1h30m", "90s", "1.5h", "2m 30s" or "250ms" and returns it in milliseconds (rounded).
 * Throws a RangeError that quotes the text when it is not a duration.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '') throw new RangeError('not a duration: empty text');
  // Sticky (`y`): each part must start exactly where the previous one ended, so "1h junk" is refused, not skipped.
  // "ms" comes before "m" and "s" in the alternation so that "250ms" is not read as 250 minutes and an "s".
  const part = /\s*(\d+(?:\.\d+)?)\s*(ms|d|h|m|s)/y;
  let total = 0;
  while (part.lastIndex < trimmed.length) {
    const start = part.lastIndex;
    const match = part.exec(trimmed);
    if (match === null) throw new RangeError(`not a duration: "${text}" (stuck at "${trimmed.slice(start)}")`);
    const [, amount = '', unit = ''] = match;
    total += Number(amount) * (MS_PER_UNIT.get(unit) ?? 0);
  }
  return Math.round(total);
}

/** Writes milliseconds as parseDuration reads them, largest unit first: 5_400_000 -> "1h30m". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms} ms`);
  const total = Math.round(ms);
  const parts = UNITS.map(([unit, size], index) => {
    const larger = UNITS[index - 1]?.[1] ?? Number.POSITIVE_INFINITY;
    const count = Math.floor((total % larger) / size);
    return count > 0 ? `${count}${unit}` : '';
  });
  return parts.join('') || '0ms';
}
