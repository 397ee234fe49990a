/**
 * The rescale benchmark's job: generated events over `keys` keys (a keyed count each), throttled
 * to `rate` per second, output discarded. No parallelism is set: reactive mode decides.
 * Arguments: keys, events per second.
 */
import '@nimble/runtime/local';
import { StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';

const [keys = 100_000, rate = 20_000] = process.argv.slice(2).map(Number);
const env = StreamExecutionEnvironment.getExecutionEnvironment();
env
  .fromSource(
    new DataGeneratorSource((i) => [`user-${i % keys}`, 1] as [string, number], 1e12, {
      recordsPerSecond: rate,
      batchSize: 100,
    }),
    WatermarkStrategy.noWatermarks(),
    'events',
  )
  .uid('events')
  .keyBy((e) => e[0])
  .reduce((a, b) => [a[0], a[1] + b[1]] as [string, number])
  .uid('count')
  .filter(() => false)
  .uid('discard')
  .print()
  .uid('print');
await env.execute('rescale-bench');
