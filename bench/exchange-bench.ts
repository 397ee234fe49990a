/**
 * The engine without state: 2M generated tuples through a chained map, a rebalance, or a keyBy
 * to a sink, at parallelism 1 (one thread). Shows what the data exchange itself costs.
 * Run: `npx tsx bench/exchange-bench.ts`.
 */
import '@nimble/runtime/local';
import { StreamExecutionEnvironment, WatermarkStrategy } from '@nimble/api';
import type { DataStream } from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';

type Row = [user: string, amount: number, category: number, time: number];
const EVENTS = 2_000_000;

const edges: Record<string, (s: DataStream<Row>) => DataStream<Row>> = {
  'chained map': (s) => s.map((r) => r),
  'rebalance -> map': (s) => s.rebalance().map((r) => r),
  'keyBy -> map': (s) => s.keyBy((r) => r[0]).map((r) => r),
};

for (const [name, edge] of Object.entries(edges)) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const source = new DataGeneratorSource<Row>(
    (i) => [`user-${i % 100_000}`, i % 100, 1, i],
    EVENTS,
  );
  edge(env.fromSource(source, WatermarkStrategy.noWatermarks<Row>(), 'tuples')).sinkTo({
    createWriter: () => ({ write() {}, flush() {}, close() {} }),
  });
  const result = await env.execute(name);
  const rate = Math.round(EVENTS / (result.netRuntimeMs / 1000));
  console.log(`${name.padEnd(18)} ${rate.toLocaleString('en-US')} events/s`);
}
