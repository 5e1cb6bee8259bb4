import { CODE_CORPUS, FENCE_TAG, type CorpusLanguage } from './codeCorpus';
import type { SimChatStyle, SimCompletionRequest } from './simOptions';

// Each default completion holds at least this many characters of code: 2,600-3,400 cl100k tokens at the 3.4-4.3
// characters per token this corpus has, so that 2,000-token benchmarks never run out of text (a test checks it).
const MIN_COMPLETION_CHARS = 11_000;

/** FNV-1a over UTF-16 code units: a cheap, stable hash so that the same prompt always gets the same completion. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

const LANGUAGE_HINTS: readonly { readonly language: CorpusLanguage; readonly pattern: RegExp }[] = [
  { language: 'python', pattern: /\.py\b|^\s*def \w+\(|^\s*import \w+\s*$|^\s*from \w+ import /m },
  { language: 'go', pattern: /\.go\b|^package \w+|^func /m },
  { language: 'rust', pattern: /\.rs\b|\bfn \w+\(|\blet mut\b|\bimpl\b/m },
  { language: 'typescript', pattern: /\.[jt]sx?\b|\bconst \w+|\bfunction \w+|\binterface \w+/m },
];

/** Guesses the language of a prompt from file names and keywords; TypeScript when nothing matches. */
export function guessLanguage(text: string): CorpusLanguage {
  // The text nearest the cursor matters most: look at the end of the prompt first, then at all of it.
  const tail = text.slice(-2000);
  for (const source of [tail, text]) {
    const hit = LANGUAGE_HINTS.find((hint) => hint.pattern.test(source));
    if (hit) return hit.language;
  }
  return 'typescript';
}

/** Concatenates corpus snippets of one language, starting at a hash-chosen one, until the text is long enough. */
export function corpusCode(language: CorpusLanguage, seed: number, minChars = MIN_COMPLETION_CHARS): string {
  const snippets = CODE_CORPUS[language];
  const parts: string[] = [];
  let length = 0;
  for (let index = seed % snippets.length; length < minChars; index++) {
    const snippet = snippets[index % snippets.length] ?? '';
    parts.push(snippet);
    length += snippet.length + 1;
  }
  return parts.join('\n');
}

/**
 * The simulator's default completion: plausible code in the prompt's language, chosen deterministically from the
 * prompt. Chat answers are fenced with one sentence before them unless `style` is `plain`.
 */
export function defaultCompletion(request: SimCompletionRequest, style: SimChatStyle): string {
  const language = guessLanguage(request.promptText);
  const code = corpusCode(language, stableHash(request.promptText));
  if (style === 'plain') return code;
  return `Here is the refactored code, with the same behaviour and clearer names:\n\n\`\`\`${FENCE_TAG[language]}\n${code}\`\`\`\n`;
}
