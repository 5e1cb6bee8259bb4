// SIMULATED backend, no real model: its suggestions are text from this workspace's own files.
// Try: type `if` at the cursor, Tab accepts; Refactor Selection: Ctrl+Alt+E; speeds: Model Speed.

import { LruCache } from './src/lruCache';
import { UNITS, parseDuration } from './src/duration';

/** Timeouts from configuration, each text parsed once (the last 100 are kept). */
const parsedTimeouts = new LruCache<string, number>(100);

/** The timeout, in milliseconds, that a setting such as "1m30s" gives. */
export function timeoutMs(setting: string): number {
  const cached = parsedTimeouts.get(setting);
  if (cached !== undefined) return cached;
  const ms = parseDuration(setting);
  parsedTimeouts.set(setting, ms);
  return ms;
}

/** Writes milliseconds as parseDuration reads them, largest unit first: 5_400_000 -> "1h30m". */
export function formatDuration(ms: number): string {
  
}
