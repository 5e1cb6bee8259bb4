import type { ProtocolId } from '../endpoint';
import { anthropicProtocol } from './anthropic';
import { llamaCppInfillProtocol } from './llamacpp';
import { ollamaChatProtocol, ollamaGenerateProtocol } from './ollama';
import { openAiChatProtocol, openAiCompletionsProtocol } from './openai';
import type { ProtocolAdapter } from './protocol';

const PROTOCOLS: Readonly<Record<ProtocolId, ProtocolAdapter>> = {
  'openai-chat': openAiChatProtocol,
  'openai-completions': openAiCompletionsProtocol,
  'llamacpp-infill': llamaCppInfillProtocol,
  'ollama-generate': ollamaGenerateProtocol,
  'ollama-chat': ollamaChatProtocol,
  anthropic: anthropicProtocol,
};

/** The adapter for a protocol id. */
export function protocolFor(id: ProtocolId): ProtocolAdapter {
  return PROTOCOLS[id];
}
