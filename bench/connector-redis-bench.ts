/**
 * Redis connector benchmark against a real redis-server (test/fixtures/redis-server.ts, Debian's
 * binary on a free port): local jobs at parallelism 1 (one subtask, in this process) from an
 * unthrottled DataGeneratorSource, so each figure is events/s of one subtask with the source's own
 * cost included.
 *
 * - sink, hash: `HSET feature:<user> count n total t` + `PEXPIRE` (100,000 users), pipelined;
 * - sink, string: `SET feature:<user> <json> PX ttl`;
 * - lookup without cache: `HGETALL profile:<user>` per event through AsyncDataStream.unorderedWait
 *   (capacity 1000), 100,000 users (few repeats in flight);
 * - lookup with cache: the same over 1,000 users with a DefaultLookupCache of 10,000 rows.
 *
 * Each case runs `--rounds` times (3) and the best and median rounds are printed.
 *
 *   pnpm bench:connector-redis [-- --events 200000 --rounds 3]
 */
import type { RedisMapper } from '@nimble/connector-redis';
import {
  AsyncDataStream,
  Duration,
  installPipelineExecutor,
  StreamExecutionEnvironment,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import {
  DefaultLookupCache,
  RedisCommand,
  RedisCommandDescription,
  RedisConnectionConfig,
  RedisLookupFunction,
  RedisSink,
} from '@nimble/connector-redis';
import { LocalExecutor } from '@nimble/runtime';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startRedis } from '../test/fixtures/redis-server.js';

const { values } = parseArgs({
  // `pnpm bench:connector-redis -- --events N` passes the `--` on.
  args: process.argv.slice(2).filter((a) => a !== '--'),
  options: {
    events: { type: 'string', default: '200000' },
    rounds: { type: 'string', default: '3' },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Event {
  readonly id: number;
  readonly user: string;
  readonly amount: number;
}

installPipelineExecutor(new LocalExecutor({ threads: false, stdout: () => {} }));
const redis = await startRedis();
const config = RedisConnectionConfig.builder()
  .setHost(redis.host)
  .setPort(redis.port)
  .setTimeout(30_000)
  .build();

function events(env: StreamExecutionEnvironment, users: number) {
  return env.fromSource(
    new DataGeneratorSource<Event>(
      (i) => ({ id: i, user: `u${i % users}`, amount: (i % 97) + 1 }),
      EVENTS,
    ),
    WatermarkStrategy.noWatermarks<Event>(),
    'events',
  );
}

const ttl = { mode: 'PX', ttl: Duration.ofHours(1) } as const;
const hashMapper: RedisMapper<Event> = {
  getCommandDescription: () => new RedisCommandDescription(RedisCommand.HSET, ttl),
  getKeyFromData: (e) => `feature:${e.user}`,
  getValueFromData: (e) => ({ count: e.id, total: e.amount }),
};
const stringMapper: RedisMapper<Event> = {
  getCommandDescription: () => new RedisCommandDescription(RedisCommand.SET, ttl),
  getKeyFromData: (e) => `feature:${e.user}`,
  getValueFromData: (e) => JSON.stringify(e),
};

async function sinkRun(mapper: RedisMapper<Event>): Promise<number> {
  await redis.client.flushall();
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(1);
  events(env, 100_000).sinkTo(new RedisSink(config, mapper));
  const start = performance.now();
  await env.execute('redis-sink-bench');
  const seconds = (performance.now() - start) / 1000;
  const keys = await redis.client.dbsize();
  if (keys !== Math.min(EVENTS, 100_000)) throw new Error(`expected keys in Redis, found ${keys}`);
  return EVENTS / seconds;
}

async function lookupRun(cache: boolean): Promise<number> {
  const users = cache ? 1000 : 100_000;
  await redis.client.flushall();
  for (let from = 0; from < users; from += 10_000) {
    const p = redis.client.pipeline();
    for (let u = from; u < Math.min(users, from + 10_000); u++)
      p.hset(`profile:u${u}`, 'tier', `t${u % 3}`);
    await p.exec();
  }
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(1);
  let lookup = RedisLookupFunction.builder<Event, number>()
    .setConnectionConfig(config)
    .setDataType('hash')
    .setKeySelector((e) => `profile:${e.user}`)
    .setResultFunction((e, profile) => (profile === null ? undefined : e.id));
  if (cache) {
    lookup = lookup.setCache(
      DefaultLookupCache.newBuilder()
        .maximumSize(10_000)
        .expireAfterWrite(Duration.ofMinutes(10))
        .build(),
    );
  }
  let found = 0;
  AsyncDataStream.unorderedWait(
    events(env, users),
    lookup.build(),
    Duration.ofSeconds(60),
    1000,
  ).sinkTo({
    createWriter: () => ({
      write: () => {
        found++;
      },
      flush: () => {},
      close: () => {},
    }),
  });
  const start = performance.now();
  await env.execute('redis-lookup-bench');
  const seconds = (performance.now() - start) / 1000;
  if (found !== EVENTS) throw new Error(`expected ${EVENTS} enriched events, got ${found}`);
  return EVENTS / seconds;
}

const cases: [string, () => Promise<number>][] = [
  ['sink, hash (HSET + PEXPIRE)', () => sinkRun(hashMapper)],
  ['sink, string (SET PX)', () => sinkRun(stringMapper)],
  ['lookup, no cache (HGETALL)', () => lookupRun(false)],
  ['lookup, cache of 10,000 rows (1,000 keys)', () => lookupRun(true)],
];

const rows: string[][] = [];
try {
  for (const [name, run] of cases) {
    const rates: number[] = [];
    for (let r = 0; r < ROUNDS; r++) rates.push(await run());
    rates.sort((a, b) => b - a);
    const median = rates[Math.floor(rates.length / 2)]!;
    console.log(`[redis-bench] ${name}: ${rates.map(fmt).join(', ')} events/s`);
    rows.push([name, fmt(rates[0]!), fmt(median)]);
  }
} finally {
  await redis.stop();
}

console.log('');
console.log(
  `Redis ${(await import('node:child_process')).execFileSync('/usr/bin/redis-server', ['--version']).toString().split(' ')[2]}, ` +
    `${EVENTS.toLocaleString('en-US')} events per round, ${ROUNDS} rounds, parallelism 1, ` +
    `${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)}`,
);
console.log('| case | best events/s per subtask | median |');
console.log('|---|---|---|');
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
