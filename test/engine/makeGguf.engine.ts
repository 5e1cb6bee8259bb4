// The model cache: generated once, reused while its checksum holds, regenerated when the file is corrupt.
import { openSync, closeSync, readFileSync, mkdtempSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TINY_MODEL, ensureModel } from './makeGguf';

const previousCache = process.env['LATENCY_COPILOT_CACHE'];

afterAll(() => {
  if (previousCache === undefined) delete process.env['LATENCY_COPILOT_CACHE'];
  else process.env['LATENCY_COPILOT_CACHE'] = previousCache;
});

describe('test model cache', () => {
  it('reuses a verified model, regenerates a corrupt one, and generates the same bytes every time', async () => {
    // The suite's own cached tiny model (global setup made it), for the determinism check.
    const shared = await ensureModel(TINY_MODEL);
    const scratch = mkdtempSync(join(tmpdir(), 'latency-copilot-models-'));
    process.env['LATENCY_COPILOT_CACHE'] = scratch;
    try {
      const first = await ensureModel(TINY_MODEL);
      expect(first.generated).toBe(true);
      expect(first.path.startsWith(scratch)).toBe(true);
      expect(first.sha256).toBe(shared.sha256);
      expect(statSync(first.path).size).toBe(first.bytes);
      expect(readFileSync(`${first.path}.sha256`, 'utf8')).toBe(
        `${first.sha256}  ${first.path.split('/').pop() ?? ''}\n`,
      );
      // GGUF magic and version 3.
      const header = readFileSync(first.path).subarray(0, 8);
      expect(header.subarray(0, 4).toString('ascii')).toBe('GGUF');
      expect(header.readUInt32LE(4)).toBe(3);

      const reused = await ensureModel(TINY_MODEL);
      expect(reused.generated).toBe(false);
      expect(reused.sha256).toBe(first.sha256);

      // Flip one byte in the weights: the checksum no longer matches, so the file is made again.
      const fd = openSync(first.path, 'r+');
      writeSync(fd, Buffer.from([0x5a]), 0, 1, Math.floor(first.bytes / 2));
      closeSync(fd);
      const repaired = await ensureModel(TINY_MODEL);
      expect(repaired.generated).toBe(true);
      expect(repaired.sha256).toBe(first.sha256);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
