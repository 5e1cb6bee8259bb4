// Latency Copilot runs against a SIMULATED backend here, no real model: its suggestions are text from this workspace.
// Try it: type at the cursor, Tab accepts; select code, Ctrl+Alt+E (Refactor Selection); speeds: Model Speed panel.

import { LruCache } from './src/lruCache';
import { UNITS, parseDuration } from './src/duration';

/** Timeouts from configuration, each text parsed once: the last 100 are remembered. */
const parsedTimeouts = new LruCache<string, number>(100);

/** The timeout, in milliseconds, that a setting such as "1m30s" gives. */
export function timeoutMs(setting: string): number {
  const cached = parsedTimeouts.get(setting);
  if (cached !== undefined) return cached;
  const ms = parseDuration(setting);
  parsedTimeouts.set(setting, ms);
  return ms;
}

/** Writes a duration in milliseconds the way parseDuration reads it, largest unit first: 5_400_000 -> "1h30m". */
export function formatDuration(ms: number): string {
  
}
