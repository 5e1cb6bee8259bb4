/**
 * Removes API keys and credentials from text before it is logged or shown. Two layers: the exact key values the
 * extension holds (registered with `Redactor.addSecret`), and patterns for anything key-like that came from elsewhere
 * (a server echoing a header, an error quoting a URL with credentials, a key pasted into the wrong field).
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

// Header-style credentials: `Authorization: Bearer x`, `x-api-key: x`, `api-key: x`, also as JSON (`"authorization":"x"`).
const HEADER_PATTERN =
  /(["']?(?:authorization|proxy-authorization|x-api-key|api-key|x-goog-api-key|cookie|set-cookie)["']?\s*[:=]\s*["']?)(?:(?:bearer|basic|token)\s+)?[^"'\s,;}]+/gi;
// A bare `Bearer <token>` anywhere.
const BEARER_PATTERN = /\b(bearer\s+)[A-Za-z0-9._~+/=-]{6,}/gi;
// Key-like fields in JSON or assignments: `"apiKey": "x"`, `api_key=x`, `OPENAI_API_KEY=x`, `secret: x`.
const FIELD_PATTERN =
  /(["']?[A-Za-z_]*(?:api[_-]?key|apikey|secret|password|passwd|access[_-]?token|auth[_-]?token|refresh[_-]?token)["']?\s*[:=]\s*["']?)[^"'\s,;&}]+/gi;
// Query-string credentials: `?key=x`, `&token=x`.
const QUERY_PATTERN = /([?&](?:key|api_key|apikey|token|access_token|auth|signature|sig)=)[^&#\s"']+/gi;
// Credentials inside a URL: `https://user:pass@host`.
const URL_CREDENTIALS_PATTERN = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s:@]+(?::[^/\s@]*)?@/gi;
// Provider key shapes: OpenAI/Anthropic/DeepSeek `sk-...`, Groq `gsk_`, Cerebras `csk-`, xAI `xai-`, Hugging Face `hf_`,
// GitHub `ghp_`/`github_pat_`, Google `AIza`, Perplexity `pplx-`, Fireworks `fw_`, Slack `xox?-`.
export const KEY_SHAPE_PATTERN =
  /\b(?:sk|csk|xai|pplx|sess)-[A-Za-z0-9_-]{12,}|\b(?:gsk|hf|ghp|gho|ghu|ghs|fw|github_pat)_[A-Za-z0-9_]{12,}|\bAIza[0-9A-Za-z_-]{20,}|\bxox[abposr]-[A-Za-z0-9-]{10,}/g;
// A PEM private key block.
export const PEM_PATTERN = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g;

/** Known secrets shorter than this are not replaced verbatim (they would blank out ordinary words). */
export const MIN_SECRET_LENGTH = 8;

function escapeForRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Redacts credential patterns, and every occurrence of the given known secrets, from `text`. */
export function redact(text: string, knownSecrets: Iterable<string> = []): string {
  let result = text;
  // Exact values first, longest first, so that a key containing another key is removed whole.
  const secrets = [...knownSecrets]
    .filter((secret) => secret.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of secrets) result = result.replace(new RegExp(escapeForRegExp(secret), 'g'), REDACTED);
  return result
    .replace(PEM_PATTERN, REDACTED)
    .replace(HEADER_PATTERN, `$1${REDACTED}`)
    .replace(BEARER_PATTERN, `$1${REDACTED}`)
    .replace(FIELD_PATTERN, `$1${REDACTED}`)
    .replace(QUERY_PATTERN, `$1${REDACTED}`)
    .replace(URL_CREDENTIALS_PATTERN, `$1${REDACTED}@`)
    .replace(KEY_SHAPE_PATTERN, REDACTED);
}

/** True when `text` holds something the patterns would redact (used to refuse key-like values in settings). */
export function looksLikeSecret(text: string): boolean {
  return redact(text) !== text;
}

/** Holds the secrets the extension knows (its API keys) and redacts them plus every credential pattern. */
export class Redactor {
  private readonly secrets = new Set<string>();
  /** `knownSecrets()` sorted once per change: it is read for every outgoing prompt. */
  private sortedSecrets: readonly string[] | null = null;

  /** Registers a secret to be replaced wherever it appears. */
  addSecret(secret: string): void {
    if (secret.length >= MIN_SECRET_LENGTH) this.secrets.add(secret);
    this.sortedSecrets = null;
  }

  /** Forgets a secret (after it was cleared). Patterns still apply. */
  removeSecret(secret: string): void {
    this.secrets.delete(secret);
    this.sortedSecrets = null;
  }

  /** Replaces the whole set of known secrets (after a refresh from SecretStorage). */
  setSecrets(secrets: Iterable<string>): void {
    this.secrets.clear();
    this.sortedSecrets = null;
    for (const secret of secrets) this.addSecret(secret);
  }

  /** Redacts `text`. */
  redact(text: string): string {
    return redact(text, this.secrets);
  }

  /** The known secrets, longest first (a key containing another is then removed whole). */
  knownSecrets(): readonly string[] {
    this.sortedSecrets ??= [...this.secrets].sort((a, b) => b.length - a.length);
    return this.sortedSecrets;
  }
}
