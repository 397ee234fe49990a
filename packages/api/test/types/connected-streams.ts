/**
 * Type tests of ConnectedStreams, checked by `pnpm typecheck` (never run): each
 * `@ts-expect-error` pins a call that must not compile; the other calls must keep compiling.
 */
import type { Collector, KeyedProcessContext, ProcessContext } from '../../src/index.js';
import {
  CoProcessFunction,
  KeyedCoProcessFunction,
  StreamExecutionEnvironment,
} from '../../src/index.js';

interface Purchase {
  user: string;
  amount: number;
}
interface Refund {
  user: string;
  amount: number;
}

class NetByUser extends KeyedCoProcessFunction<string, Purchase, Refund, string> {
  processElement1(p: Purchase, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()} +${p.amount}`);
  }
  processElement2(r: Refund, ctx: KeyedProcessContext<string>, out: Collector<string>): void {
    out.collect(`${ctx.getCurrentKey()} -${r.amount}`);
  }
}

class NetByNumber extends KeyedCoProcessFunction<number, Purchase, Refund, string> {
  processElement1(): void {}
  processElement2(): void {}
}

class Both extends CoProcessFunction<Purchase, Refund, string> {
  processElement1(p: Purchase, _ctx: ProcessContext, out: Collector<string>): void {
    out.collect(p.user);
  }
  processElement2(r: Refund, _ctx: ProcessContext, out: Collector<string>): void {
    out.collect(r.user);
  }
}

const env = StreamExecutionEnvironment.getExecutionEnvironment();
const purchases = env.fromElements<Purchase>();
const refunds = env.fromElements<Refund>();

// ---- keyed connected streams: the key type reaches the function ----
const byUser = purchases.connect(refunds).keyBy(
  (p) => p.user,
  (r) => r.user,
);
byUser.process(new NetByUser());
byUser.process(new Both());
purchases
  .keyBy((p) => p.user)
  .connect(refunds.keyBy((r) => r.user))
  .process(new NetByUser());
// @ts-expect-error pins: a function for number keys on connected streams keyed by strings
byUser.process(new NetByNumber());
const twoInputs = purchases.connect(refunds);
const userOf = (p: Purchase) => p.user;
const amountOf = (r: Refund) => r.amount;
// @ts-expect-error pins: both key selectors must return one key type
twoInputs.keyBy(userOf, amountOf);

// ---- input types ----
const swapped = refunds.connect(purchases.map((p) => p.amount));
// @ts-expect-error pins: a function for (Purchase, Refund) on (Refund, number)
swapped.process(new Both());
purchases.connect(refunds).map({ map1: (p) => p.amount, map2: (r) => -r.amount });
const mapped = purchases.connect(refunds);
// @ts-expect-error pins: map2 gets a Refund, which has no field `missing`
mapped.map({ map1: (p) => p.amount, map2: (r) => r.missing });
