// The Redis sink, lookup and SQL connector against a real redis-server (test/fixtures), in local
// jobs: exact content per data type and TTL mode, flush waiting for every write, errors naming the
// server and the command, lookups batched and cached (counted by the server's own statistics).
import '@nimble/runtime/local';
import type { SinkWriter } from '@nimble/api';
import { AsyncDataStream, Duration, StreamExecutionEnvironment } from '@nimble/api';
import { Schema, StreamTableEnvironment } from '@nimble/sql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RedisServer } from '../../../test/fixtures/redis-server.js';
import { freePort, redisContent, startRedis } from '../../../test/fixtures/redis-server.js';
import type { RedisConnectionConfig, RedisMapper, RedisTtl } from '../src/index.js';
import {
  DefaultLookupCache,
  RedisCommand,
  RedisCommandDescription,
  RedisConnectionConfig as Config,
  RedisConnectorError,
  RedisLookupFunction,
  RedisSink,
} from '../src/index.js';

let redis: RedisServer;
let secured: RedisServer;

beforeAll(async () => {
  [redis, secured] = await Promise.all([startRedis(), startRedis({ password: 's3cret' })]);
}, 60_000);

afterAll(async () => {
  await redis?.stop();
  await secured?.stop();
});

beforeEach(async () => {
  await redis.client.flushall();
  await redis.client.config('RESETSTAT');
});

function config(server: RedisServer = redis, password?: string): RedisConnectionConfig {
  const b = Config.builder().setHost(server.host).setPort(server.port).setTimeout(10_000);
  if (password !== undefined) b.setPassword(password);
  return b.build();
}

interface Feature {
  readonly user: string;
  readonly window: number;
  readonly count: number;
  readonly total: number;
}

function mapper(command: RedisCommand, ttl?: RedisTtl): RedisMapper<Feature> {
  const description = new RedisCommandDescription(command, ttl);
  return {
    getCommandDescription: () => description,
    getKeyFromData: (f) => `f:${f.user}:${f.window}`,
    getValueFromData: (f) =>
      f.count < 0
        ? null
        : command === RedisCommand.SET
          ? `${f.count}/${f.total}`
          : command === RedisCommand.HSET
            ? { count: f.count, total: f.total, gone: null }
            : { [`w${f.window}`]: f.total },
  };
}

const FEATURES: Feature[] = [
  { user: 'u1', window: 0, count: 2, total: 15 },
  { user: 'u2', window: 0, count: 1, total: 4 },
  { user: 'u1', window: 60, count: 3, total: 9 },
  { user: 'u2', window: 0, count: -1, total: 0 }, // deletes f:u2:0
];

async function run(sink: RedisSink<Feature>, features = FEATURES): Promise<void> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(1);
  env.fromCollection(features).sinkTo(sink);
  await env.execute('redis-sink');
}

describe('RedisSink', () => {
  it('HSET with PX: fields written, null fields removed, a null value deletes the key', async () => {
    await redis.client.hset('f:u1:0', 'gone', 'x');
    await run(new RedisSink(config(), mapper(RedisCommand.HSET, { mode: 'PX', ttl: 60_000 })));
    expect(await redisContent(redis.client)).toEqual({
      'f:u1:0': { count: '2', total: '15' },
      'f:u1:60': { count: '3', total: '9' },
    });
    const pttl = await redis.client.pttl('f:u1:0');
    expect(pttl).toBeGreaterThan(50_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it('SET with EX, KEEPTTL and no TTL', async () => {
    await run(
      new RedisSink(config(), mapper(RedisCommand.SET, { mode: 'EX', ttl: Duration.ofHours(1) })),
    );
    expect(await redisContent(redis.client)).toEqual({ 'f:u1:0': '2/15', 'f:u1:60': '3/9' });
    expect(await redisContent(redis.client)).toEqual({ 'f:u1:0': '2/15', 'f:u1:60': '3/9' });
    const ttl = await redis.client.ttl('f:u1:0');
    expect(ttl).toBeGreaterThan(3500);
    expect(ttl).toBeLessThanOrEqual(3600);
    // KEEPTTL leaves the hour; a SET without a TTL clears it, as Redis does.
    await run(new RedisSink(config(), mapper(RedisCommand.SET, { mode: 'KEEPTTL' })), [
      { user: 'u1', window: 0, count: 5, total: 50 },
    ]);
    expect(await redis.client.get('f:u1:0')).toBe('5/50');
    expect(await redis.client.ttl('f:u1:0')).toBeGreaterThan(3500);
    await run(new RedisSink(config(), mapper(RedisCommand.SET)), [
      { user: 'u1', window: 0, count: 6, total: 60 },
    ]);
    expect(await redis.client.ttl('f:u1:0')).toBe(-1);
  });

  it('ZADD writes member scores', async () => {
    await run(new RedisSink(config(), mapper(RedisCommand.ZADD)));
    expect(await redis.client.zrange('f:u1:60', 0, -1, 'WITHSCORES')).toEqual(['w60', '9']);
    expect(await redis.client.exists('f:u2:0')).toBe(0);
  });

  it('flush returns once every write is in Redis, pipelined in batches', async () => {
    const writer = new RedisSink(config(), mapper(RedisCommand.SET), {
      maxBatchSize: 500,
    }).createWriter({
      getSubtaskId: () => 0,
      getNumberOfParallelSubtasks: () => 1,
      getAttemptNumber: () => 0,
      getRestoredCheckpointId: () => undefined,
    });
    const ctx = { timestamp: () => undefined, currentWatermark: () => 0 };
    for (let i = 0; i < 5000; i++) {
      writer.write({ user: `u${i}`, window: 0, count: i, total: i }, ctx);
    }
    await writer.flush(false);
    expect(await redis.client.dbsize()).toBe(5000);
    expect(await redis.client.get('f:u4999:0')).toBe('4999/4999');
    await writer.close();
  });

  it('a value of the wrong shape names the key and the command', async () => {
    const bad: RedisMapper<Feature> = {
      getCommandDescription: () => new RedisCommandDescription(RedisCommand.SET),
      getKeyFromData: (f) => `k:${f.user}`,
      getValueFromData: () => ({ a: 1 }),
    };
    await expect(run(new RedisSink(config(), bad))).rejects.toThrow(
      `the mapper's value for key 'k:u1' is {"a":1}, but SET writes a string`,
    );
  });

  async function failure(cfg: RedisConnectionConfig): Promise<RedisConnectorError> {
    const writer: SinkWriter<Feature> = new RedisSink(cfg, mapper(RedisCommand.HSET)).createWriter({
      getSubtaskId: () => 0,
      getNumberOfParallelSubtasks: () => 1,
      getAttemptNumber: () => 0,
      getRestoredCheckpointId: () => undefined,
    });
    writer.write(FEATURES[0]!, { timestamp: () => undefined, currentWatermark: () => 0 });
    try {
      await writer.flush(false);
      throw new Error('flush succeeded');
    } catch (e) {
      expect(e).toBeInstanceOf(RedisConnectorError);
      return e as RedisConnectorError;
    } finally {
      await writer.close();
    }
  }

  it('an unreachable server: the error names the server and the command', async () => {
    const port = await freePort();
    const cfg = Config.builder().setHost('127.0.0.1').setPort(port).setMaxRetries(1).build();
    const e = await failure(cfg);
    expect(e.server).toBe(`127.0.0.1:${port}`);
    expect(e.message).toMatch(
      new RegExp(`^Redis 127\\.0\\.0\\.1:${port}: HSET f:u1:0 failed: .*ECONNREFUSED`),
    );
    expect(e.message).toContain('Check that the Redis server is running');
  });

  it('a wrong password: the error names the server and says to check the password', async () => {
    const e = await failure(config(secured, 'wrong'));
    expect(e.message).toMatch(
      new RegExp(`^Redis ${secured.address.replace(/\./g, '\\.')}: HSET f:u1:0 failed: `),
    );
    expect(e.message).toMatch(/WRONGPASS|NOAUTH/);
    expect(e.message).toContain('Check the password');
    // With the right one the same write goes through.
    await run(new RedisSink(config(secured, 's3cret'), mapper(RedisCommand.HSET)));
    expect(await secured.client.hgetall('f:u1:60')).toEqual({ count: '3', total: '9' });
  });
});

describe('RedisCommandDescription and DefaultLookupCache', () => {
  it('reject bad settings with clear messages', () => {
    expect(() => new RedisCommandDescription(RedisCommand.SET, { mode: 'PX', ttl: 0 })).toThrow(
      'RedisCommandDescription: TTL 0 ms must be positive',
    );
    expect(() => new RedisCommandDescription('GETDEL' as RedisCommand)).toThrow(
      "unknown command 'GETDEL'; use one of SET, HSET, ZADD",
    );
    expect(() => DefaultLookupCache.newBuilder().build()).toThrow(
      'set at least one of maximumSize, expireAfterWrite or expireAfterAccess',
    );
    expect(() => Config.builder().setPort(70000).build()).toThrow(
      'port 70000 is not a port (1..65535)',
    );
  });

  it('evicts the least recently used key and expires after write', () => {
    const cache = DefaultLookupCache.newBuilder()
      .maximumSize(2)
      .expireAfterWrite(Duration.ofSeconds(10))
      .build<string>();
    cache.put('a', '1', 0);
    cache.put('b', '2', 0);
    expect(cache.getIfPresent('a', 1)).toBe('1');
    cache.put('c', '3', 2); // evicts b, the least recently used
    expect(cache.getIfPresent('b', 3)).toBeUndefined();
    expect(cache.getIfPresent('c', 3)).toBe('3');
    expect(cache.getIfPresent('a', 10_000)).toBeUndefined(); // written at 0, expired at 10 s
    cache.put('missing', null, 0);
    expect(cache.getIfPresent('missing', 1)).toBeNull();
  });
});

interface Purchase {
  readonly id: number;
  readonly user: string;
}

async function enrich(cache: boolean, ordered: boolean): Promise<string[]> {
  const lookup = RedisLookupFunction.builder<Purchase, string>()
    .setConnectionConfig(config())
    .setDataType('hash')
    .setKeySelector((p) => `user:${p.user}`)
    .setResultFunction((p, profile) =>
      profile === null ? undefined : `${p.id} ${p.user} ${profile['tier']}`,
    );
  if (cache) {
    lookup.setCache(
      DefaultLookupCache.newBuilder()
        .maximumSize(1000)
        .expireAfterWrite(Duration.ofMinutes(5))
        .build(),
    );
  }
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(1);
  const purchases = env.fromCollection(
    Array.from({ length: 2000 }, (_, i): Purchase => ({ id: i, user: `u${i % 25}` })),
  );
  const wait = ordered ? AsyncDataStream.orderedWait : AsyncDataStream.unorderedWait;
  const out = await wait(
    purchases,
    lookup.build(),
    Duration.ofSeconds(30),
    500,
  ).executeAndCollect();
  return ordered ? out : out.sort();
}

/** How many times Redis ran `command` since the last RESETSTAT. */
async function calls(command: string): Promise<number> {
  const info = await redis.client.info('commandstats');
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('RedisLookupFunction', () => {
  const TIERS = ['basic', 'silver', 'gold'];
  async function profiles(): Promise<void> {
    // u0..u19 have a profile; u20..u24 do not (an inner join drops their purchases).
    const p = redis.client.pipeline();
    for (let u = 0; u < 20; u++) p.hset(`user:u${u}`, 'tier', TIERS[u % 3]!);
    await p.exec();
    await redis.client.config('RESETSTAT');
  }
  const expected = (sorted: boolean) => {
    const lines = Array.from({ length: 2000 }, (_, i) => i)
      .filter((i) => i % 25 < 20)
      .map((i) => `${i} u${i % 25} ${TIERS[(i % 25) % 3]}`);
    return sorted ? lines.sort() : lines;
  };

  it('orderedWait with a cache: exact output, each key read from Redis once', async () => {
    await profiles();
    expect(await enrich(true, true)).toEqual(expected(false));
    // 25 distinct keys, missing ones cached too: one HGETALL each, in pipelines.
    expect(await calls('hgetall')).toBe(25);
  });

  it('unorderedWait without a cache: exact output, keys pipelined and coalesced in flight', async () => {
    await profiles();
    expect(await enrich(false, false)).toEqual(expected(true));
    const n = await calls('hgetall');
    expect(n).toBeGreaterThanOrEqual(25);
    expect(n).toBeLessThanOrEqual(2000);
  });

  it('an unreachable server fails the job with an error naming it and the key', async () => {
    const port = await freePort();
    const lookup = RedisLookupFunction.builder<Purchase, string>()
      .setConnectionConfig(
        Config.builder().setPort(port).setHost('127.0.0.1').setMaxRetries(0).build(),
      )
      .setDataType('string')
      .setKeySelector((p) => `user:${p.user}`)
      .setResultFunction((p, v) => `${p.id} ${v}`)
      .build();
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    const purchases = env.fromCollection<Purchase>([{ id: 1, user: 'u1' }]);
    await expect(
      AsyncDataStream.unorderedWait(
        purchases,
        lookup,
        Duration.ofSeconds(30),
        10,
      ).executeAndCollect(),
    ).rejects.toThrow(new RegExp(`Redis 127\\.0\\.0\\.1:${port}: GET user:u1 failed`));
  });
});

describe("SQL 'connector' = 'redis'", () => {
  function tableEnv(): { env: StreamExecutionEnvironment; tEnv: StreamTableEnvironment } {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(1);
    const tEnv = StreamTableEnvironment.create(env);
    tEnv.createTemporaryView(
      'Purchases',
      env.fromElements(
        { user_id: 'alice', amount: 10 },
        { user_id: 'bob', amount: 5 },
        { user_id: 'alice', amount: 20 },
        { user_id: 'bob', amount: 1 },
        { user_id: 'carol', amount: 7 },
      ),
      Schema.newBuilder().column('user_id', 'STRING').column('amount', 'INT').build(),
    );
    return { env, tEnv };
  }
  const opts = (extra: string) =>
    `'connector' = 'redis', 'host' = '127.0.0.1', 'port' = '${redis.port}', 'key-prefix' = 'spend:'${extra}`;

  it('an upsert of a GROUP BY as hashes, with a TTL', async () => {
    const { tEnv } = tableEnv();
    await tEnv.executeSql(
      `CREATE TABLE Totals (user_id STRING, total INT, n BIGINT, PRIMARY KEY (user_id) NOT ENFORCED)
       WITH (${opts(", 'ttl' = '1 h'")})`,
    );
    await tEnv.executeSql(
      'INSERT INTO Totals SELECT user_id, SUM(amount), COUNT(*) FROM Purchases GROUP BY user_id',
    );
    expect(await redisContent(redis.client)).toEqual({
      'spend:alice': { total: '30', n: '2' },
      'spend:bob': { total: '6', n: '2' },
      'spend:carol': { total: '7', n: '1' },
    });
    expect(await redis.client.pttl('spend:alice')).toBeGreaterThan(3_500_000);
  });

  it('strings in JSON; a -D deletes the key', async () => {
    const { tEnv } = tableEnv();
    await tEnv.executeSql(
      `CREATE TABLE ByCount (n BIGINT, users BIGINT, PRIMARY KEY (n) NOT ENFORCED)
       WITH (${opts(", 'data-type' = 'string'")})`,
    );
    // Users per purchase count: the group n=1 empties (-D) once alice and bob buy again.
    await tEnv.executeSql(
      `INSERT INTO ByCount SELECT n, COUNT(*) FROM
         (SELECT user_id, COUNT(*) AS n FROM Purchases GROUP BY user_id) GROUP BY n`,
    );
    expect(await redisContent(redis.client)).toEqual({
      'spend:1': '{"n":1,"users":1}',
      'spend:2': '{"n":2,"users":2}',
    });
  });

  it('validation at CREATE TABLE names the table and the option', async () => {
    const { tEnv } = tableEnv();
    await expect(
      tEnv.executeSql(`CREATE TABLE NoKey (user_id STRING, total INT) WITH (${opts('')})`),
    ).rejects.toThrow(
      /Unable to create a sink for writing table 'default_catalog\.default_database\.NoKey'[\s\S]*'redis' tables require to define a PRIMARY KEY constraint/,
    );
    await expect(
      tEnv.executeSql(
        `CREATE TABLE BadOpt (user_id STRING, total INT, PRIMARY KEY (user_id) NOT ENFORCED)
         WITH (${opts(", 'format' = 'json'")})`,
      ),
    ).rejects.toThrow(/Option 'format' applies to 'data-type' = 'string' only/);
    await expect(
      tEnv.executeSql(
        `CREATE TABLE Typo (user_id STRING, total INT, PRIMARY KEY (user_id) NOT ENFORCED)
         WITH (${opts(", 'data_type' = 'hash'")})`,
      ),
    ).rejects.toThrow(
      /Unsupported options found for 'redis'\.\n\nUnsupported options:\n\ndata_type/,
    );
  });
});
