import { describe, expect, it } from 'vitest';
import { localEnv } from './support/local.js';

describe('executeAndCollect', () => {
  // Spreading one subtask's results into push() overflowed the stack at about 200,000 elements.
  it('returns every element of a large result, in order', async () => {
    const n = 500_000;
    const env = localEnv({ 'parallelism.default': 1 });
    const out = await env
      .fromCollection(Array.from({ length: n }, (_, i) => i))
      .executeAndCollect();
    expect(out).toHaveLength(n);
    expect(out[0]).toBe(0);
    expect(out[n - 1]).toBe(n - 1);
    expect(out.every((v, i) => v === i)).toBe(true);
  });
});
