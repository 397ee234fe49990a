/**
 * The seed's feature pipeline with an enrichment step (Flink's Async I/O): purchases -> look up
 * each buyer's profile in an HTTP service, up to 100 requests in flight per subtask ->
 * keyBy(user) -> tumbling 5-minute event-time window -> spend per user, with the user's segment.
 *
 *   pnpm --filter @nimble/examples async-enrichment -- --events 20000 --users 200
 *
 * The profile service is a small HTTP server the example starts itself on a free loopback port.
 */
import '@nimble/runtime/local';
import type { DataStream, SingleOutputStreamOperator } from '@nimble/api';
import {
  AsyncDataStream,
  Duration,
  RichAsyncFunction,
  StreamExecutionEnvironment,
  Time,
  TumblingEventTimeWindows,
} from '@nimble/api';
import { createServer } from 'node:http';
import { isMainThread } from 'node:worker_threads';
import { jobArgs } from './args.js';
import type { Purchase } from './purchases.js';
import { generatedPurchases } from './user-spend-pipeline.js';

/** What the profile service knows of a user. */
export interface Profile {
  readonly segment: 'new' | 'regular' | 'vip';
  readonly country: string;
}

/** A purchase with its buyer's profile. */
export interface EnrichedPurchase extends Purchase, Profile {}

/** The profile of `userId`: deterministic, so tests can check the enrichment. */
export function profileOf(userId: string): Profile {
  const n = Number(userId.slice('user-'.length));
  return {
    segment: n % 10 === 0 ? 'vip' : n % 3 === 0 ? 'new' : 'regular',
    country: ['DE', 'FR', 'US', 'JP'][n % 4]!,
  };
}

/** Starts the profile service (`GET /users/<id>`), answering after `delayMs`, on a free port. */
export function startProfileService(
  delayMs = 2,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const userId = decodeURIComponent(req.url!.slice('/users/'.length));
    setTimeout(() => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(profileOf(userId)));
    }, delayMs);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  );
}

/** Looks up the buyer of each purchase; the request does not block the subtask. */
export class ProfileLookup extends RichAsyncFunction<Purchase, EnrichedPurchase> {
  constructor(private readonly serviceUrl: string) {
    super();
  }
  async asyncInvoke(p: Purchase): Promise<EnrichedPurchase[]> {
    const res = await fetch(`${this.serviceUrl}/users/${encodeURIComponent(p.user_id)}`);
    if (!res.ok) throw new Error(`profile service answered ${res.status} for ${p.user_id}`);
    return [{ ...p, ...((await res.json()) as Profile) }];
  }
}

/**
 * Enriches purchases with profiles (in order, 100 in flight, each lookup failing the job after
 * `timeout`), then totals spend per user in 5-minute windows.
 */
export function enrichedSpend5Min(
  purchases: DataStream<Purchase>,
  serviceUrl: string,
  timeout: Duration = Duration.ofSeconds(5),
): SingleOutputStreamOperator<EnrichedPurchase> {
  return AsyncDataStream.orderedWait(purchases, new ProfileLookup(serviceUrl), timeout, 100)
    .uid('profile-lookup')
    .keyBy((e) => e.user_id)
    .window(TumblingEventTimeWindows.of(Time.minutes(5)))
    .reduce((a, b) => ({
      ...a,
      amount_usd: a.amount_usd + b.amount_usd,
      event_time_ms: Math.max(a.event_time_ms, b.event_time_ms),
    }))
    .uid('user-5min-spend-by-segment');
}

if (process.env['NIMBLE_EXAMPLE_IMPORT'] !== '1') {
  const args = jobArgs({ events: 20_000, users: 200, parallelism: 2 });
  // Slot workers rebuild this job: they use the service the main thread started.
  const service = isMainThread ? await startProfileService() : undefined;
  if (service) process.env['NIMBLE_PROFILE_SERVICE'] = service.url;
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(args.parallelism);
  const purchases = generatedPurchases(env, args.events, {
    users: args.users,
    msPerEvent: 100,
    maxDelayMs: 3000,
  });
  enrichedSpend5Min(purchases, process.env['NIMBLE_PROFILE_SERVICE']!)
    .map((e) =>
      JSON.stringify({
        user_id: e.user_id,
        segment: e.segment,
        country: e.country,
        spend_5min_usd: Math.round(e.amount_usd * 100) / 100,
      }),
    )
    .print();
  try {
    await env.execute('user-5min-spend-by-segment');
  } finally {
    await service?.close();
  }
}
