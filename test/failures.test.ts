import type { Collector, KeyedOnTimerContext, KeyedProcessContext } from '@nimble/api';
import {
  installPipelineExecutor,
  KeyedProcessFunction,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { LocalExecutor } from '@nimble/runtime';
import { describe, expect, it } from 'vitest';

describe('failures outside record processing', () => {
  it('an exception in a processing-time onTimer fails the job naming the operator; the process lives on', async () => {
    installPipelineExecutor(new LocalExecutor({ threads: false }));
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    // Ten events over about a second: the job is still running when the timer fires.
    const source = new DataGeneratorSource((i) => `user-${i % 2}`, 10, { recordsPerSecond: 10 });
    const job = env
      .fromSource(source, WatermarkStrategy.noWatermarks<string>(), 'users')
      .keyBy((u) => u)
      .process(
        new (class extends KeyedProcessFunction<string, string, string> {
          processElement(_u: string, ctx: KeyedProcessContext<string>): void {
            ctx
              .timerService()
              .registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + 20);
          }
          override onTimer(
            _t: number,
            ctx: KeyedOnTimerContext<string>,
            _out: Collector<string>,
          ): void {
            throw new Error(`no feature store for ${ctx.getCurrentKey()}`);
          }
        })(),
      )
      .name('Feature timer')
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /Feature timer \(1\/1\): onTimer: user function threw Error: no feature store for user-0/,
    );
  });
});
