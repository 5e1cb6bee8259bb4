import { describe, expect, it } from 'vitest';
import { looksLikeSecret, REDACTED, redact, Redactor } from '../../../../src/core/config/redact';

describe('redact', () => {
  it.each([
    ['Authorization: Bearer abcdefghijklmnop123', 'abcdefghijklmnop123'],
    ['{"authorization":"Bearer tok_1234567890abc"}', 'tok_1234567890abc'],
    ['x-api-key: sk-ant-api03-AAAAAAAAAAAAAAAAAAAA', 'sk-ant-api03-AAAAAAAAAAAAAAAAAAAA'],
    ['api-key: mimo0123456789', 'mimo0123456789'],
    ['sent with bearer eyJhbGciOiJIUzI1NiJ9.payload.sig', 'eyJhbGciOiJIUzI1NiJ9.payload.sig'],
    ['{"apiKey": "plainsecretvalue42"}', 'plainsecretvalue42'],
    ['OPENAI_API_KEY=whatever-value-123', 'whatever-value-123'],
    ['GET https://host/v1/models?key=AIzaSyA1234567890abcdefghij&x=1', 'AIzaSyA1234567890abcdefghij'],
    ['connect https://alice:hunter2secret@proxy.local:8080/', 'hunter2secret'],
    ['key is sk-proj-abc123DEF456ghi789 ok', 'sk-proj-abc123DEF456ghi789'],
    ['groq gsk_0123456789abcdefABCDEF', 'gsk_0123456789abcdefABCDEF'],
    ['cerebras csk-0123456789abcdefgh', 'csk-0123456789abcdefgh'],
    ['token hf_abcdefghijklmnopqrstu', 'hf_abcdefghijklmnopqrstu'],
    ['-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----', 'MIIEvQIBADANBg'],
  ])('removes the credential from %j', (text, secret) => {
    const result = redact(text);
    expect(result).not.toContain(secret);
    expect(result).toContain(REDACTED);
  });

  it('keeps ordinary text, URLs and numbers intact', () => {
    const text = 'POST https://api.cerebras.ai/v1/chat/completions -> 200 in 312.5 ms, 1,024 tokens (task-runner)';
    expect(redact(text)).toBe(text);
    expect(looksLikeSecret(text)).toBe(false);
  });

  it('removes known secrets of any shape, wherever they appear', () => {
    const key = '4f0e2c1a-0b7d-4bfa-9e1c-77aa55cc33dd';
    expect(redact(`echoed: ${key}; again ${key}`, [key])).toBe(`echoed: ${REDACTED}; again ${REDACTED}`);
    // A pattern-free key is kept when it is not known.
    expect(redact(`echoed: ${key}`)).toContain(key);
  });

  it('does not blank out short known values', () => {
    expect(redact('a b c', ['b'])).toBe('a b c');
  });

  it('Redactor tracks added and removed secrets', () => {
    const redactor = new Redactor();
    redactor.addSecret('zzzz-known-secret');
    expect(redactor.redact('x zzzz-known-secret y')).toBe(`x ${REDACTED} y`);
    redactor.removeSecret('zzzz-known-secret');
    expect(redactor.redact('x zzzz-known-secret y')).toBe('x zzzz-known-secret y');
    redactor.setSecrets(['another-secret-value']);
    expect(redactor.redact('another-secret-value')).toBe(REDACTED);
  });

  it('looksLikeSecret flags a pasted key', () => {
    expect(looksLikeSecret('sk-abcdefghijklmnopqrstuv')).toBe(true);
  });
});
