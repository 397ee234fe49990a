/**
 * Full backpressure for bench/unaligned-bench.ts: an unthrottled, unbounded source keyed into
 * running counts (keyed state) followed by a map that spends 1 ms per record, parallelism 2.
 * The channels between the source and the counts stay full of records waiting for the map.
 */
import '@nimble/runtime/local';
import type { Collector, KeyedProcessContext, RuntimeContext, ValueState } from '@nimble/api';
import {
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';

class RunningCount extends KeyedProcessFunction<string, { user: string }, number> {
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(new ValueStateDescriptor<number>('count'));
  }
  processElement(
    e: { user: string },
    _ctx: KeyedProcessContext<string>,
    out: Collector<number>,
  ): void {
    const n = (this.count.value() ?? 0) + 1;
    this.count.update(n);
    out.collect(n);
  }
}

const env = StreamExecutionEnvironment.getExecutionEnvironment();
env.setParallelism(2);
env
  .fromSource(
    new DataGeneratorSource(
      (i) => ({ user: `u${i % 1000}`, payload: 'x'.repeat(200) }),
      Number.POSITIVE_INFINITY,
    ),
    WatermarkStrategy.noWatermarks(),
    'events',
  )
  .uid('events')
  .keyBy((e) => e.user)
  .process(new RunningCount())
  .uid('counts')
  .map((n) => {
    const until = performance.now() + 1;
    while (performance.now() < until);
    return n;
  })
  .uid('slow')
  .name('slow')
  .filter(() => false)
  .print();
await env.execute('unaligned-backpressure');
