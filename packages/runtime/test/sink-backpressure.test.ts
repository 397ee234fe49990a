import type { Sink, SinkWriter } from '@nimble/api';
import { WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { describe, expect, it } from 'vitest';
import { localEnv } from './support/local.js';

describe('sink backpressure', () => {
  it('the task stops feeding a sink writer while it reports itself unavailable', async () => {
    let pending = 0;
    let blocked: Promise<void> | undefined;
    let writesWhileBlocked = 0;
    let maxWritesWhileBlocked = 0;
    let waits = 0;
    const written: number[] = [];
    const sink: Sink<number> = {
      createWriter: (): SinkWriter<number> => ({
        write: (n) => {
          written.push(n);
          if (blocked)
            maxWritesWhileBlocked = Math.max(maxWritesWhileBlocked, ++writesWhileBlocked);
          pending++;
        },
        availability: () => {
          if (pending < 50) return undefined;
          if (!blocked) {
            waits++;
            writesWhileBlocked = 0;
            blocked = new Promise((resolve) =>
              setTimeout(() => {
                pending = 0;
                blocked = undefined;
                resolve();
              }, 5),
            );
          }
          return blocked;
        },
        flush: () => {},
        close: () => {},
      }),
    };
    const env = localEnv();
    env.setParallelism(1);
    env
      .fromSource(
        new DataGeneratorSource((i) => i, 2000, { batchSize: 10 }),
        WatermarkStrategy.noWatermarks(),
        'numbers',
      )
      .sinkTo(sink);
    await env.execute();
    expect(written).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    expect(waits).toBeGreaterThan(10);
    // Once blocked, at most the rest of one poll (a batch of 10) reaches the writer.
    expect(maxWritesWhileBlocked).toBeLessThanOrEqual(10);
  });
});
