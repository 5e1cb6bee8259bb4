/**
 * The last check on every prompt before it leaves the machine: the extension's own API keys, PEM private-key blocks
 * and provider-shaped keys (`sk-...`, `gsk_...`, `AIza...`) are replaced, whatever file or buffer they came from.
 * Secret FILES never reach a prompt (they are refused by name before any read); this catches a key pasted into code.
 *
 * Deliberately narrower than the log redactor: the log's field patterns (`password = x`, `secret: x`) would blank out
 * ordinary code the model needs (`const secret = deriveSecret()`), so prompts get only the patterns that are keys.
 * It runs on every keystroke's request: the key-shape pattern scans an 8 KB prompt in about 15 µs, faster than checking
 * its prefixes one by one first would be.
 */

import type { ChatMessage, GenerationRequest } from '../endpoint';
import { KEY_SHAPE_PATTERN, PEM_PATTERN, REDACTED } from '../config/redact';

/** What was removed from one prompt, by kind (the log says the counts, never the values). */
export interface PromptRedactionCounts {
  /** Values of keys the extension holds (SecretStorage, the local engine's key). */
  readonly knownKeys: number;
  /** `-----BEGIN ... PRIVATE KEY-----` blocks. */
  readonly privateKeys: number;
  /** Strings shaped like a provider's API key. */
  readonly keyShapes: number;
}

interface MutableCounts {
  knownKeys: number;
  privateKeys: number;
  keyShapes: number;
}

/** The total number of replacements. */
export function redactionTotal(counts: PromptRedactionCounts): number {
  return counts.knownKeys + counts.privateKeys + counts.keyShapes;
}

function redactText(text: string, knownSecrets: readonly string[], counts: MutableCounts): string {
  let result = text;
  // Longest first (the caller's order), so that a key containing another key is removed whole.
  for (const secret of knownSecrets) {
    if (!result.includes(secret)) continue;
    const pieces = result.split(secret);
    counts.knownKeys += pieces.length - 1;
    result = pieces.join(REDACTED);
  }
  if (result.includes('-----BEGIN')) {
    result = result.replace(PEM_PATTERN, () => {
      counts.privateKeys += 1;
      return REDACTED;
    });
  }
  result = result.replace(KEY_SHAPE_PATTERN, () => {
    counts.keyShapes += 1;
    return REDACTED;
  });
  return result;
}

/**
 * `request` with keys removed from every text that is sent (messages, prompt, suffix, extra context), and what was
 * removed. When nothing was, the same request object comes back (no copy on the keystroke path).
 */
export function redactRequest(
  request: GenerationRequest,
  knownSecrets: readonly string[],
): { readonly request: GenerationRequest; readonly counts: PromptRedactionCounts } {
  const counts: MutableCounts = { knownKeys: 0, privateKeys: 0, keyShapes: 0 };
  const messages = request.messages?.map((message): ChatMessage => {
    const content = redactText(message.content, knownSecrets, counts);
    return content === message.content ? message : { ...message, content };
  });
  const prompt = request.prompt === undefined ? undefined : redactText(request.prompt, knownSecrets, counts);
  const suffix = request.suffix === undefined ? undefined : redactText(request.suffix, knownSecrets, counts);
  const extraContext = request.extraContext?.map((chunk) => {
    const text = redactText(chunk.text, knownSecrets, counts);
    return text === chunk.text ? chunk : { ...chunk, text };
  });
  if (redactionTotal(counts) === 0) return { request, counts };
  return {
    request: {
      ...request,
      ...(messages === undefined ? {} : { messages }),
      ...(prompt === undefined ? {} : { prompt }),
      ...(suffix === undefined ? {} : { suffix }),
      ...(extraContext === undefined ? {} : { extraContext }),
    },
    counts,
  };
}

/** One line for the log: how many of each kind were removed from a prompt to `endpointLabel` (never the values). */
export function describePromptRedaction(counts: PromptRedactionCounts, task: string, endpointLabel: string): string {
  const parts: string[] = [];
  if (counts.knownKeys > 0) parts.push(`${counts.knownKeys} of your API keys`);
  if (counts.privateKeys > 0)
    parts.push(`${counts.privateKeys} private-key block${counts.privateKeys === 1 ? '' : 's'}`);
  if (counts.keyShapes > 0) parts.push(`${counts.keyShapes} key-shaped string${counts.keyShapes === 1 ? '' : 's'}`);
  return `Prompt for ${task} to ${endpointLabel}: removed ${parts.join(', ')} before sending (replaced by ${REDACTED}).`;
}
