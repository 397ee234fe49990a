/**
 * The built-in connectors' throughput per subtask: DataGeneratorSource into DiscardingSink (the
 * source's figure: nothing downstream costs), and into PrintSink (print's cost per line, written
 * to a counting function instead of a terminal). One subtask, in this process, no checkpoints:
 * the figures are the connectors' own cost, the ceiling a job with them can reach.
 *
 *   pnpm bench:connector-builtin [-- --events 5000000 --runs 3]
 *
 * Prints events/s per run and the median.
 */
import {
  DiscardingSink,
  installPipelineExecutor,
  PrintSink,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { LocalExecutor } from '@nimble/runtime';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    events: { type: 'string', default: '5000000' },
    runs: { type: 'string', default: '3' },
  },
});
const events = Number(values.events);
const runs = Number(values.runs);

interface Purchase {
  readonly userId: string;
  readonly amount: number;
  readonly ts: number;
}
const purchase = (i: number): Purchase => ({
  userId: `user-${i % 100_000}`,
  amount: i % 100,
  ts: 1_700_000_000_000 + i,
});

async function run(sink: 'blackhole' | 'print'): Promise<number> {
  let printed = 0;
  installPipelineExecutor(
    new LocalExecutor({
      threads: false,
      stdout: (text) => void (printed += text.length),
    }),
  );
  const env = StreamExecutionEnvironment.getExecutionEnvironment({ 'parallelism.default': 1 });
  const stream = env.fromSource(
    new DataGeneratorSource(purchase, events),
    WatermarkStrategy.noWatermarks(),
    'DataGen',
  );
  if (sink === 'blackhole') stream.sinkTo(new DiscardingSink());
  else stream.map((p) => `${p.userId},${p.amount},${p.ts}`).sinkTo(new PrintSink());
  const started = performance.now();
  await env.execute(`builtin-${sink}`);
  const seconds = (performance.now() - started) / 1000;
  if (sink === 'print' && printed === 0) throw new Error('print wrote nothing');
  return events / seconds;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

console.log(
  `# ${fmt(events)} events, 1 subtask, ${runs} runs; load average ${loadavg()[0]!.toFixed(2)}`,
);
for (const sink of ['blackhole', 'print'] as const) {
  const rates: number[] = [];
  for (let r = 0; r < runs; r++) rates.push(await run(sink));
  const label =
    sink === 'blackhole'
      ? 'DataGeneratorSource -> DiscardingSink'
      : 'DataGeneratorSource -> map -> PrintSink';
  console.log(`${label}: median ${fmt(median(rates))} events/s (${rates.map(fmt).join(' / ')})`);
}
