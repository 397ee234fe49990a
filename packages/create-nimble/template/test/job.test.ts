// The job's pipeline run in-process on the MiniCluster of @nimble/test-utils, with exact output.
import type { TimedElement } from '@nimble/test-utils';
import { fromTimedElements, MiniCluster, record, watermark } from '@nimble/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Purchase, UserSpend } from '../src/pipeline.js';
import { buildPipeline, START_MS, userSpend } from '../src/pipeline.js';

// Two parallel subtasks, as on a cluster: keying and windows work as they do there.
const cluster = new MiniCluster({ parallelism: 2 });
beforeAll(() => cluster.start());
afterAll(() => cluster.close());

/** Subtasks interleave their output: compare in a fixed order. */
const sorted = (rows: UserSpend[]): UserSpend[] =>
  [...rows].sort(
    (a, b) => a.window_end.localeCompare(b.window_end) || a.user_id.localeCompare(b.user_id),
  );

/** A purchase at `minute` minutes past the start, as the source reads it. */
function purchase(user_id: string, amount_usd: number, minute: number): TimedElement<Purchase> {
  const event_time_ms = START_MS + minute * 60_000;
  return record({ user_id, amount_usd, event_time_ms }, event_time_ms);
}

/** The row of `user_id`'s `purchases` and `spend_usd` in the window ending at `hh:mm` on 2026-01-01. */
function spent(user_id: string, end: string, purchases: number, spend_usd: number): UserSpend {
  return { user_id, window_end: `2026-01-01T${end}:00.000Z`, purchases, spend_usd };
}

describe('userSpend', () => {
  it("sums each user's purchases per 5-minute window, without those behind the watermark", async () => {
    const env = cluster.getExecutionEnvironment();
    const spend = cluster.collect(
      userSpend(
        fromTimedElements(env, [
          purchase('alice', 10.5, 1),
          purchase('bob', 3, 2),
          purchase('alice', 4.25, 4),
          purchase('alice', 1, 6),
          watermark(START_MS + 5 * 60_000), // fires the windows ending at 00:05
          purchase('bob', 100, 3), // late: its window has fired, it is dropped
        ]),
      ),
    );
    await env.execute('user spend');
    expect(sorted(spend.values)).toEqual([
      spent('alice', '00:05', 2, 14.75),
      spent('bob', '00:05', 1, 3),
      // The end of the input fires the last window.
      spent('alice', '00:10', 1, 1),
    ]);
  });
});

describe('the job', () => {
  it("computes each user's spend in the two windows of its generated purchases", async () => {
    const env = cluster.getExecutionEnvironment();
    const spend = cluster.collect(buildPipeline(env));
    await env.execute('user-spend');
    expect(sorted(spend.values)).toEqual([
      spent('user-0', '00:05', 10, 254.9),
      // Purchase 31 (at 00:04:56) arrived after purchase 30 (at 00:05:00): it still counts here.
      spent('user-1', '00:05', 11, 292.89),
      spent('user-2', '00:05', 10, 244.9),
      spent('user-0', '00:10', 10, 254.9),
      spent('user-1', '00:10', 9, 206.91),
      spent('user-2', '00:10', 10, 244.9),
    ]);
  });
});
