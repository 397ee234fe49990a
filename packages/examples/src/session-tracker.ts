/**
 * The seed's UserSessionTracker: a KeyedProcessFunction with TTL'd ValueState that emits a
 * session feature when a user's next event comes after a 30-minute gap, or when a processing-time
 * timer finds the session silent.
 *
 *   pnpm --filter @nimble/examples session-tracker -- --users 200 --events 200000
 */
import '@nimble/runtime/local';
import type {
  Collector,
  KeyedOnTimerContext,
  KeyedProcessContext,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import {
  Duration,
  KeyedProcessFunction,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { DataGeneratorSource } from '@nimble/connector-datagen';
import { jobArgs } from './args.js';
import type { Purchase } from './purchases.js';
import { purchaseAt } from './purchases.js';

/** A finished session of one user. */
export interface SessionFeature {
  user_id: string;
  session_start_ts: number;
  session_end_ts: number;
  session_duration_s: number;
  session_event_count: number;
  session_closed_by?: 'timeout';
}

/** Tracks user sessions; emits a session when it ends (a gap of `timeoutMs` without events). */
export class UserSessionTracker extends KeyedProcessFunction<string, Purchase, SessionFeature> {
  private sessionStartTs!: ValueState<number>;
  private eventCount!: ValueState<number>;
  private lastEventTs!: ValueState<number>;

  constructor(private readonly timeoutMs = 30 * 60 * 1000) {
    super();
  }

  override open(ctx: RuntimeContext): void {
    // Expire all session state after 24 hours without writes.
    const ttl = StateTtlConfig.newBuilder(Duration.ofHours(24))
      .setUpdateType(StateTtlConfig.UpdateType.OnCreateAndWrite)
      .setStateVisibility(StateTtlConfig.StateVisibility.NeverReturnExpired)
      .build();
    this.sessionStartTs = ctx.getState(
      new ValueStateDescriptor<number>('session_start_ts').enableTimeToLive(ttl),
    );
    this.eventCount = ctx.getState(
      new ValueStateDescriptor<number>('event_count').enableTimeToLive(ttl),
    );
    this.lastEventTs = ctx.getState(
      new ValueStateDescriptor<number>('last_event_ts').enableTimeToLive(ttl),
    );
  }

  processElement(
    event: Purchase,
    ctx: KeyedProcessContext<string>,
    out: Collector<SessionFeature>,
  ): void {
    const eventTs = event.event_time_ms;
    const currentStart = this.sessionStartTs.value();
    const currentCount = this.eventCount.value() ?? 0;
    const lastTs = this.lastEventTs.value();
    if (currentStart === undefined) {
      this.sessionStartTs.update(eventTs);
      this.eventCount.update(1);
    } else if (lastTs !== undefined && eventTs - lastTs > this.timeoutMs) {
      out.collect({
        user_id: event.user_id,
        session_start_ts: currentStart,
        session_end_ts: lastTs,
        session_duration_s: (lastTs - currentStart) / 1000,
        session_event_count: currentCount,
      });
      this.sessionStartTs.update(eventTs);
      this.eventCount.update(1);
    } else {
      this.eventCount.update(currentCount + 1);
    }
    this.lastEventTs.update(Math.max(eventTs, lastTs ?? eventTs));
    // Emit the session after `timeoutMs` of silence (processing time).
    ctx
      .timerService()
      .registerProcessingTimeTimer(ctx.timerService().currentProcessingTime() + this.timeoutMs);
  }

  override onTimer(
    _timestamp: number,
    ctx: KeyedOnTimerContext<string>,
    out: Collector<SessionFeature>,
  ): void {
    const start = this.sessionStartTs.value();
    const count = this.eventCount.value() ?? 0;
    const last = this.lastEventTs.value();
    if (start !== undefined && last !== undefined) {
      out.collect({
        user_id: ctx.getCurrentKey(),
        session_start_ts: start,
        session_end_ts: last,
        session_duration_s: (last - start) / 1000,
        session_event_count: count,
        session_closed_by: 'timeout',
      });
    }
    this.sessionStartTs.clear();
    this.eventCount.clear();
    this.lastEventTs.clear();
  }
}

// Run only as a job module, not when a test imports the function above.
if (process.env['NIMBLE_EXAMPLE_IMPORT'] !== '1') {
  const args = jobArgs({
    users: 200,
    events: 200_000,
    rate: 0,
    parallelism: 2,
    backend: 'hashmap',
    'timeout-ms': 30 * 60 * 1000,
  });
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(args.parallelism);
  env.setStateBackend(args.backend === 'level' ? 'level' : 'hashmap');
  // Sparse activity: 10 s of event time per event, so a user is seen every ~33 min on average
  // and many gaps exceed the 30-minute session timeout.
  const stream = { users: args.users, msPerEvent: 10_000, maxDelayMs: 0 };
  const source = new DataGeneratorSource<Purchase>((i) => purchaseAt(i, stream), args.events, {
    recordsPerSecond: args.rate > 0 ? args.rate : undefined,
  });
  env
    .fromSource(source, WatermarkStrategy.noWatermarks<Purchase>(), 'Purchases')
    .keyBy((e) => e.user_id)
    .process(new UserSessionTracker(args['timeout-ms']))
    .uid('session-tracker')
    .map((s) => JSON.stringify(s))
    .print();
  await env.execute('user-session-tracker');
}
