// The entry point of dist/tokenizer.js: a separate chunk so that the 1 MB of BPE ranks is not parsed at activation.
// It is loaded on first need by `tokenCounter.ts`.
export { countTokens } from './tokenCount';
