/**
 * Type tests of KeyedStream, checked by `pnpm typecheck` (never run). Each `@ts-expect-error`
 * pins a call that must not compile: tsc fails on an unused `@ts-expect-error`, so if a call
 * starts compiling again, the type check fails. The other calls must keep compiling.
 */
import type {
  Collector,
  KeyedOnTimerContext,
  KeyedProcessContext,
  ProcessContext,
} from '../../src/index.js';
import {
  KeyedProcessFunction,
  ProcessFunction,
  StreamExecutionEnvironment,
} from '../../src/index.js';

interface Purchase {
  user: string;
  amount: number;
  cents: bigint;
  items: number[];
  paid: boolean;
}

class CountPerUser extends KeyedProcessFunction<string, Purchase, string> {
  override processElement(
    value: Purchase,
    ctx: KeyedProcessContext<string>,
    out: Collector<string>,
  ): void {
    out.collect(`${ctx.getCurrentKey()}: ${value.amount}`);
  }
}

class CountPerNumber extends KeyedProcessFunction<number, Purchase, string> {
  override processElement(
    value: Purchase,
    ctx: KeyedProcessContext<number>,
    out: Collector<string>,
  ): void {
    out.collect(`${ctx.getCurrentKey().toFixed(0)}: ${value.amount}`);
  }
  override onTimer(timestamp: number, ctx: KeyedOnTimerContext<number>): void {
    void [timestamp, ctx.getCurrentKey().toFixed(0)];
  }
}

/** Handles any key: fine on a stream of any key type. */
class AnyKey extends KeyedProcessFunction<string | number, Purchase, string> {
  override processElement(value: Purchase, ctx: KeyedProcessContext<string | number>): void {
    void [value, ctx.getCurrentKey()];
  }
}

class Enrich extends ProcessFunction<Purchase, string> {
  override processElement(value: Purchase, _ctx: ProcessContext, out: Collector<string>): void {
    out.collect(value.user);
  }
}

const env = StreamExecutionEnvironment.getExecutionEnvironment();
const purchases = env.fromElements<Purchase>();
const byUser = purchases.keyBy((p) => p.user);

// ---- KeyedStream.process: the key type reaches the KeyedProcessFunction ----
byUser.process(new CountPerUser());
byUser.process(new AnyKey());
// A key selector returning a literal: a function for all strings handles it.
purchases.keyBy(() => 'all').process(new CountPerUser());
purchases.keyBy((p) => p.amount).process(new CountPerNumber());
// Flink's KeyedStream.process(ProcessFunction) exists too (deprecated there, still legal).
byUser.process(new Enrich());
// @ts-expect-error pins: a function for number keys on a string-keyed stream
byUser.process(new CountPerNumber());
// @ts-expect-error pins: a function for string keys on a number-keyed stream
purchases.keyBy((p) => p.amount).process(new CountPerUser());
// @ts-expect-error pins: a KeyedProcessFunction needs a keyed stream (DataStream.process takes a ProcessFunction)
purchases.process(new CountPerUser());

// ---- sum: numeric fields only; min / max / minBy / maxBy: comparable fields (as Flink) ----
byUser.sum('amount');
byUser.sum('cents');
byUser.min('amount');
byUser.max('cents');
byUser.minBy('amount');
byUser.maxBy('user');
// @ts-expect-error pins: sum of a string field
byUser.sum('user');
byUser.min('user');
byUser.max('user');
// @ts-expect-error pins: min of a boolean field
byUser.min('paid');
// @ts-expect-error pins: max of an array field
byUser.max('items');
// @ts-expect-error pins: sum of an array field
byUser.sum('items');
// @ts-expect-error pins: sum of a boolean field
byUser.sum('paid');
// @ts-expect-error pins: a field that does not exist
byUser.sum('price');

// ---- tuples: fields by position ----
type Row = [key: string, count: number, note: string];
const rows = env.fromElements<Row>().keyBy((r) => r[0]);
rows.sum(1);
rows.min(1);
rows.max(1);
rows.minBy(1);
rows.maxBy(2);
// @ts-expect-error pins: sum of a tuple position that holds a string
rows.sum(0);
rows.max(2);
// @ts-expect-error pins: max of a position past the end of the tuple
rows.max(3);
// @ts-expect-error pins: a position past the end of the tuple
rows.sum(3);

// ---- elements without fields ----
const counts = env.fromElements(1, 2, 3).keyBy((n) => n % 2);
// @ts-expect-error pins: a number has no fields (its methods are none)
counts.sum('toFixed');
