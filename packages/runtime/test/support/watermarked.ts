import type { DataStream, StreamExecutionEnvironment } from '@nimble/api';
import { WatermarkStrategy } from '@nimble/api';

/** An element of a test stream with its event timestamp, or an explicit watermark. */
export type Timed<T> = { value: T; ts: number } | { watermark: number };

/** `value` at event time `ts`. */
export const at = <T>(value: T, ts: number): Timed<T> => ({ value, ts });
/** A watermark of `watermark`, emitted right after the element before it. */
export const wm = <T = never>(watermark: number): Timed<T> => ({ watermark });

/**
 * A stream of `events` with their timestamps and exactly the given watermarks (plus the end of
 * input's), produced by one subtask in this order whatever the job's parallelism: window
 * firings and late elements are then the same on every run.
 */
export function watermarked<T>(
  env: StreamExecutionEnvironment,
  events: readonly Timed<T>[],
): DataStream<T> {
  return env
    .fromCollection(events)
    .assignTimestampsAndWatermarks(
      WatermarkStrategy.forGenerator<Timed<T>>(() => ({
        // A marker emits its watermark after it went downstream; the filter below drops it.
        onEvent: (e, _ts, output) => {
          if ('watermark' in e) output.emitWatermark(e.watermark);
        },
        onPeriodicEmit: () => {},
      })).withTimestampAssigner((e) => ('watermark' in e ? e.watermark : e.ts)),
    )
    .setParallelism(1)
    .filter((e) => !('watermark' in e))
    .setParallelism(1)
    .map((e) => (e as { value: T }).value)
    .setParallelism(1);
}
