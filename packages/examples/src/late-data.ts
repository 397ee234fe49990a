/**
 * The seed's late-data handling: a tumbling 5-minute window that keeps accepting late purchases
 * for 30 seconds (each one updates the result: a late firing), and sends purchases that come even
 * later to a side output instead of dropping them.
 *
 *   pnpm --filter @nimble/examples late-data
 */
import '@nimble/runtime/local';
import type { WatermarkGenerator, WatermarkOutput } from '@nimble/api';
import {
  OutputTag,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
  WatermarkStrategy,
} from '@nimble/api';

/** [user, amount, event time ms] */
export type Spend = [user: string, amount: number, eventTimeMs: number];

const MIN = 60_000;
/** Purchases in arrival order; the times are minutes:seconds past 00:00. */
export const LATE_DATA_EVENTS: Spend[] = [
  ['alice', 10, 1 * MIN], // window [0, 5 min)
  ['alice', 20, 3 * MIN],
  ['bob', 5, 4 * MIN],
  ['alice', 7, 5 * MIN + 20_000], // window [5, 10 min); the watermark passes 4:59.999: [0, 5) fires
  ['alice', 1, 4 * MIN + 30_000], // late, within the 30 s allowed lateness: [0, 5) fires again
  ['bob', 3, 5 * MIN + 45_000], // the watermark passes 5:29.999: [0, 5) is cleaned up
  ['alice', 100, 2 * MIN], // too late: to the side output
  ['bob', 8, 12 * MIN],
];

/**
 * Punctuated watermarks: after each event, the watermark trails the largest timestamp by 5 s
 * (the same bound as forBoundedOutOfOrderness(5 s), emitted per event so the example is exact).
 */
export function punctuatedWatermarks(): WatermarkGenerator<Spend> {
  let max = Number.MIN_SAFE_INTEGER;
  return {
    onEvent(_e: Spend, ts: number, out: WatermarkOutput) {
      max = Math.max(max, ts);
      out.emitWatermark(max - 5000 - 1);
    },
    onPeriodicEmit() {},
  };
}

export const lateTag = new OutputTag<Spend>('late-purchases');

/** Builds the job on `env`; returns the window results and the late side output. */
export function buildLateDataJob(env: StreamExecutionEnvironment) {
  const windowed = env
    .fromCollection(LATE_DATA_EVENTS)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forGenerator(punctuatedWatermarks).withTimestampAssigner((e) => e[2]),
    )
    .keyBy((e) => e[0])
    .window(TumblingEventTimeWindows.of(Time.minutes(5)))
    .allowedLateness(Time.seconds(30))
    .sideOutputLateData(lateTag)
    .reduce((a: Spend, b: Spend): Spend => [a[0], a[1] + b[1], Math.max(a[2], b[2])]);
  return { windowed, late: windowed.getSideOutput(lateTag) };
}

if (process.env['NIMBLE_EXAMPLE_IMPORT'] !== '1') {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const { windowed, late } = buildLateDataJob(env);
  windowed.map((x) => `spend_5min ${x[0]} ${x[1]}`).print('feature');
  late.map((x) => `late ${x[0]} ${x[1]} at ${x[2]}`).print('investigate');
  await env.execute('late-data');
}
