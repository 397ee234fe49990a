/**
 * What the job test kit costs a test (docs/testing.md): the session tracker's KeyedProcessFunction
 * under the keyed operator harness (elements per second, and one harness's open + close), and a
 * small windowed job on the MiniCluster (one run, wall time). Several rounds; best and median.
 *
 *   pnpm bench:testkit [-- --rounds 7]
 */
import { Time, TumblingEventTimeWindows } from '@nimble/api';
import { purchaseAt } from '@nimble/examples/purchases';
import type { Purchase } from '@nimble/examples/purchases';
import {
  fromTimedElements,
  MiniCluster,
  ProcessFunctionTestHarnesses,
  record,
} from '@nimble/test-utils';

process.env['NIMBLE_EXAMPLE_IMPORT'] = '1';
const { UserSessionTracker } = await import('@nimble/examples/session-tracker');

const i = process.argv.indexOf('--rounds');
const ROUNDS = i > 0 ? Number(process.argv[i + 1]) : 7;
const ELEMENTS = 100_000;
const stream = { users: 1000, msPerEvent: 10_000, maxDelayMs: 0 };
const events: Purchase[] = Array.from({ length: ELEMENTS }, (_, n) => purchaseAt(n, stream));

const summary = (xs: number[]): { best: number; median: number } => {
  const s = [...xs].sort((a, b) => a - b);
  return { best: s[0]!, median: s[Math.floor(s.length / 2)]! };
};

const harnessRate: number[] = [];
const openClose: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const t0 = performance.now();
  const h = await ProcessFunctionTestHarnesses.forKeyedProcessFunction(
    new UserSessionTracker(),
    (p: Purchase) => p.user_id,
  );
  const t1 = performance.now();
  for (let n = 0; n < ELEMENTS; n++) {
    h.processElement(events[n]!, events[n]!.event_time_ms);
    if (n % 1000 === 999) h.setProcessingTime((n + 1) * 1000);
  }
  const t2 = performance.now();
  await h.close();
  const t3 = performance.now();
  harnessRate.push(ELEMENTS / ((t2 - t1) / 1000));
  openClose.push(t1 - t0 + (t3 - t2));
}

const cluster = new MiniCluster({ parallelism: 2 });
cluster.start();
const jobMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const env = cluster.getExecutionEnvironment();
  const elements = Array.from({ length: 1000 }, (_, n) => record({ k: n % 10, v: 1 }, n));
  const out = cluster.collect(
    fromTimedElements(env, elements)
      .keyBy((e) => e.k)
      .window(TumblingEventTimeWindows.of(Time.milliseconds(100)))
      .reduce((a, b) => ({ k: a.k, v: a.v + b.v })),
  );
  const t0 = performance.now();
  await env.execute('testkit-bench');
  jobMs.push(performance.now() - t0);
  if (out.values.length !== 100) throw new Error(`expected 100 windows, got ${out.values.length}`);
}
cluster.close();

const rate = summary(harnessRate);
const oc = summary(openClose);
const job = summary(jobMs);
console.log(`rounds: ${ROUNDS}`);
console.log(
  `keyed harness, session tracker: best ${Math.round(Math.max(...harnessRate))} elements/s, median ${Math.round(rate.median)} elements/s (${ELEMENTS} elements, 1000 keys)`,
);
console.log(
  `harness open + close: best ${oc.best.toFixed(2)} ms, median ${oc.median.toFixed(2)} ms`,
);
console.log(
  `MiniCluster windowed job (1000 elements, p=2, 100 windows): best ${job.best.toFixed(1)} ms, median ${job.median.toFixed(1)} ms`,
);
