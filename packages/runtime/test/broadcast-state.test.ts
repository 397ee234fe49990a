// Broadcast state: DataStream.broadcast(descriptors), connect(broadcastStream) and the
// (Keyed)BroadcastProcessFunction, pinned to Flink's semantics (CoBroadcastWithKeyedOperator,
// CoBroadcastWithNonKeyedOperator, the docs page "The Broadcast State Pattern", and
// KeyedStateBackend.applyToAllKeys). Jobs order one stream after the other by waiting for what
// the job did (gated sources and latches), so their outputs are exact whatever the scheduling.
import type {
  BroadcastContext,
  BroadcastReadOnlyContext,
  BroadcastState,
  Collector,
  Key,
  KeyedBroadcastContext,
  KeyedBroadcastOnTimerContext,
  KeyedBroadcastReadOnlyContext,
  ListState,
  RuntimeContext,
  ValueState,
} from '@nimble/api';
import {
  BroadcastProcessFunction,
  KeyedBroadcastProcessFunction,
  ListStateDescriptor,
  MapStateDescriptor,
  MAX_TIMESTAMP,
  MIN_TIMESTAMP,
  OutputTag,
  TimeDomain,
  ValueStateDescriptor,
  WatermarkStrategy,
} from '@nimble/api';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeOpaque } from '../src/checkpoint/metadata.js';
import type { CheckpointMetadata } from '../src/checkpoint/metadata.js';
import { restoredOperatorState } from '../src/checkpoint/task-state.js';
import { assignToKeyGroup, KeyGroupRange } from '../src/keys/index.js';
import {
  CoBroadcastWithKeyedOperator,
  CoBroadcastWithNonKeyedOperator,
} from '../src/operators/broadcast-operators.js';
import { createKeyedStateBackend } from '../src/state/index.js';
import type { KeyedStateBackend, StateBackendKind } from '../src/state/index.js';
import type { RestoredOperatorStates } from '../src/state/operator-state-store.js';
import { GatedSource, latch } from './support/gated-source.js';
import type { Latch } from './support/gated-source.js';
import { localEnv } from './support/local.js';
import { OperatorHarness } from './support/operator-harness.js';

const BACKENDS = ['hashmap', 'level'] as const;

// ---- the docs page's example: items of colors and shapes, rules of shape pairs ----

type Shape = 'rectangle' | 'triangle' | 'circle';
interface Item {
  readonly color: string;
  readonly shape: Shape;
  readonly ts: number;
}
interface Rule {
  readonly name: string;
  readonly first: Shape;
  readonly second: Shape;
}

const ruleStateDescriptor = new MapStateDescriptor<string, Rule>('RulesBroadcastState');

const show = (i: Item) => `${i.color} ${i.shape}@${i.ts}`;

/**
 * The docs page's KeyedBroadcastProcessFunction: per rule, the items of a key waiting for their
 * second shape; a rule whose first and second shape are equal pairs consecutive items.
 */
class PatternMatcher extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
  private readonly mapStateDesc = new MapStateDescriptor<string, Item[]>('items');

  constructor(private readonly ruleArrived: () => void = () => {}) {
    super();
  }

  processBroadcastElement(rule: Rule, ctx: KeyedBroadcastContext<string>): void {
    ctx.getBroadcastState(ruleStateDescriptor).put(rule.name, rule);
    this.ruleArrived();
  }

  processElement(
    value: Item,
    ctx: KeyedBroadcastReadOnlyContext<string>,
    out: Collector<string>,
  ): void {
    const state = this.getRuntimeContext().getMapState(this.mapStateDesc);
    const shape = value.shape;
    for (const [ruleName, rule] of ctx.getBroadcastState(ruleStateDescriptor).immutableEntries()) {
      let stored = state.get(ruleName) ?? [];
      if (shape === rule.second && stored.length > 0) {
        for (const i of stored) out.collect(`MATCH: ${show(i)} - ${show(value)}`);
        stored = [];
      }
      // There is no else: a rule whose first shape is its second pairs consecutive items.
      if (shape === rule.first) stored = [...stored, value];
      if (stored.length === 0) state.remove(ruleName);
      else state.put(ruleName, stored);
    }
  }
}

const RULES: Rule[] = [
  { name: 'rectangle-then-triangle', first: 'rectangle', second: 'triangle' },
  { name: 'circle-then-circle', first: 'circle', second: 'circle' },
];
const ITEMS: Item[] = [
  { color: 'red', shape: 'rectangle', ts: 1 },
  { color: 'blue', shape: 'circle', ts: 2 },
  { color: 'red', shape: 'triangle', ts: 3 },
  { color: 'red', shape: 'rectangle', ts: 4 },
  { color: 'blue', shape: 'circle', ts: 5 },
  { color: 'red', shape: 'rectangle', ts: 6 },
  { color: 'red', shape: 'triangle', ts: 7 },
  { color: 'blue', shape: 'circle', ts: 8 },
  { color: 'green', shape: 'triangle', ts: 9 },
];

describe.each(BACKENDS)('the Broadcast State Pattern on %s', (backend) => {
  it.each([1, 3])(
    'rules broadcast to items keyed by color: every instance matches with every rule (p=%i)',
    async (p) => {
      const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
      // The items wait until every instance has stored every rule.
      const rulesStored = latch(RULES.length * p);
      const ruleBroadcastStream = env.fromCollection(RULES).broadcast(ruleStateDescriptor);
      const items = env.fromSource(
        new GatedSource(ITEMS, rulesStored.opened),
        WatermarkStrategy.noWatermarks<Item>(),
        'items',
      );
      const output = await items
        .keyBy((i) => i.color)
        .connect(ruleBroadcastStream)
        .process(new PatternMatcher(() => rulesStored.countDown()))
        .executeAndCollect();
      expect(output.sort()).toEqual(
        [
          'MATCH: red rectangle@1 - red triangle@3',
          'MATCH: red rectangle@4 - red triangle@7',
          'MATCH: red rectangle@6 - red triangle@7',
          'MATCH: blue circle@2 - blue circle@5',
          'MATCH: blue circle@5 - blue circle@8',
        ].sort(),
      );
    },
  );
});

// ---- a non-keyed stream: BroadcastProcessFunction ----

interface Payment {
  readonly id: string;
  readonly cents: number;
}
interface Setting {
  readonly key: 'rate' | 'threshold';
  readonly value: number;
}
const settingsDescriptor = new MapStateDescriptor<string, number>('settings');
const largeTag = new OutputTag<string>('large');
const appliedTag = new OutputTag<string>('applied');

/** Converts payments with the broadcast rate; large ones also go to a side output. */
class Converter extends BroadcastProcessFunction<Payment, Setting, string> {
  constructor(private readonly settingStored: () => void) {
    super();
  }
  processElement(p: Payment, ctx: BroadcastReadOnlyContext, out: Collector<string>): void {
    const settings = ctx.getBroadcastState(settingsDescriptor);
    const converted = p.cents * settings.get('rate')!;
    out.collect(`${p.id} ${converted} at ${ctx.timestamp()}`);
    if (converted >= settings.get('threshold')!) ctx.output(largeTag, p.id);
  }
  processBroadcastElement(s: Setting, ctx: BroadcastContext): void {
    ctx.getBroadcastState(settingsDescriptor).put(s.key, s.value);
    // Every instance sees every broadcast element; the watermark is the minimum of both inputs'.
    ctx.output(
      appliedTag,
      `${this.getRuntimeContext().getIndexOfThisSubtask()}: ${s.key}=${s.value} wm=${ctx.currentWatermark()}`,
    );
    this.settingStored();
  }
}

describe('BroadcastProcessFunction on a non-keyed stream', () => {
  it.each([1, 3])(
    'every instance gets every broadcast element; elements read the state; side outputs from both sides (p=%i)',
    async (p) => {
      const env = localEnv({ 'parallelism.default': p });
      const settings: Setting[] = [
        { key: 'rate', value: 3 },
        { key: 'threshold', value: 100 },
      ];
      const stored = latch(settings.length * p);
      const payments = env
        .fromSource(
          new GatedSource<Payment>(
            [
              { id: 'p1', cents: 10 },
              { id: 'p2', cents: 40 },
              { id: 'p3', cents: 33 },
              { id: 'p4', cents: 34 },
            ],
            stored.opened,
          ),
          WatermarkStrategy.noWatermarks<Payment>(),
          'payments',
        )
        .rebalance();
      const converted = payments
        .connect(env.fromCollection(settings).broadcast(settingsDescriptor))
        .process(new Converter(() => stored.countDown()));
      const out = await converted
        .union(
          converted.getSideOutput(largeTag).map((id) => `large ${id}`),
          converted.getSideOutput(appliedTag),
        )
        .executeAndCollect();
      const applied: string[] = [];
      for (let i = 0; i < p; i++) {
        applied.push(`${i}: rate=3 wm=${MIN_TIMESTAMP}`, `${i}: threshold=100 wm=${MIN_TIMESTAMP}`);
      }
      expect(out.sort()).toEqual(
        [
          'p1 30 at undefined',
          'p2 120 at undefined',
          'p3 99 at undefined',
          'p4 102 at undefined',
          'large p2',
          'large p4',
          ...applied,
        ].sort(),
      );
    },
  );

  it('the plain broadcast() partitioner still sends every element to every subtask', async () => {
    const env = localEnv({ 'parallelism.default': 3 });
    const out = await env
      .fromElements('x', 'y')
      .broadcast()
      .map((s) => s.toUpperCase())
      .executeAndCollect();
    expect(out.sort()).toEqual(['X', 'X', 'X', 'Y', 'Y', 'Y']);
  });
});

// ---- applyToKeyedState in a job ----

interface Spend {
  readonly user: string;
  readonly amount: number;
}
type Command = { readonly kind: 'scale'; readonly factor: number } | { readonly kind: 'forget' };
const commandsDescriptor = new MapStateDescriptor<string, number>('commands');

/**
 * A running total per user in a unit the broadcast side can change: `scale` multiplies every
 * user's total (applyToKeyedState updates every key) and the rate of later spends; `forget`
 * clears every user's list of amounts seen (applyToKeyedState clears every key). At the end of
 * input a timer reports each user.
 */
class Totals extends KeyedBroadcastProcessFunction<string, Spend, Command, string> {
  private readonly totalDescriptor = new ValueStateDescriptor<number>('total');
  private readonly seenDescriptor = new ListStateDescriptor<number>('seen');
  private total!: ValueState<number>;
  private seen!: ListState<number>;

  constructor(
    private readonly spendProcessed: () => void,
    private readonly commandProcessed: () => void,
  ) {
    super();
  }

  override open(ctx: RuntimeContext): void {
    this.total = ctx.getState(this.totalDescriptor);
    this.seen = ctx.getListState(this.seenDescriptor);
  }

  processElement(
    s: Spend,
    ctx: KeyedBroadcastReadOnlyContext<string>,
    out: Collector<string>,
  ): void {
    const factor = ctx.getBroadcastState(commandsDescriptor).get('factor') ?? 1;
    this.total.update((this.total.value() ?? 0) + s.amount * factor);
    this.seen.add(s.amount);
    ctx.timerService().registerEventTimeTimer(MAX_TIMESTAMP - 1);
    out.collect(`${s.user} +${s.amount}`);
    this.spendProcessed();
  }

  processBroadcastElement(
    c: Command,
    ctx: KeyedBroadcastContext<string>,
    out: Collector<string>,
  ): void {
    if (c.kind === 'scale') {
      const commands = ctx.getBroadcastState(commandsDescriptor);
      commands.put('factor', (commands.get('factor') ?? 1) * c.factor);
      ctx.applyToKeyedState(this.totalDescriptor, (user, total) => {
        total.update(total.value()! * c.factor);
        out.collect(`scaled ${user}`);
      });
    } else {
      ctx.applyToKeyedState(this.seenDescriptor, (_user, seen) => seen.clear());
    }
    this.commandProcessed();
  }

  override onTimer(
    _ts: number,
    ctx: KeyedBroadcastOnTimerContext<string>,
    out: Collector<string>,
  ): void {
    out.collect(
      `${ctx.getCurrentKey()} total=${this.total.value()} seen=${[...this.seen.get()].join(',')}`,
    );
  }
}

describe.each(BACKENDS)('applyToKeyedState in a job on %s', (backend) => {
  it('an exception of the function fails the job naming the operator and the state', async () => {
    const env = localEnv({ 'state.backend.type': backend });
    const counted = latch(2);
    const job = env
      .fromCollection<Spend>([
        { user: 'a', amount: 1 },
        { user: 'b', amount: 2 },
      ])
      .keyBy((s) => s.user)
      .connect(
        env
          .fromSource(
            new GatedSource<Command>([{ kind: 'forget' }], counted.opened),
            WatermarkStrategy.noWatermarks<Command>(),
            'commands',
          )
          .broadcast(commandsDescriptor),
      )
      .process(
        new (class extends KeyedBroadcastProcessFunction<string, Spend, Command, string> {
          private readonly d = new ValueStateDescriptor<number>('count');
          constructor(private readonly countDown: () => void) {
            super();
          }
          processElement(s: Spend): void {
            this.getRuntimeContext().getState(this.d).update(s.amount);
            this.countDown();
          }
          processBroadcastElement(_c: Command, ctx: KeyedBroadcastContext<string>): void {
            ctx.applyToKeyedState(this.d, () => {
              throw new RangeError('bad count');
            });
          }
        })(() => counted.countDown()),
      )
      .name('Counter')
      .executeAndCollect();
    await expect(job).rejects.toThrow(
      /Counter \(1\/1\): applyToKeyedState of "count": user function threw RangeError: bad count/,
    );
  });

  it.each([1, 3])(
    'updates and clears the state of every key the instance holds, before any later element (p=%i)',
    async (p) => {
      const env = localEnv({ 'parallelism.default': p, 'state.backend.type': backend });
      const before: Spend[] = [
        { user: 'a', amount: 1 },
        { user: 'b', amount: 3 },
        { user: 'a', amount: 2 },
        { user: 'd', amount: 7 },
      ];
      const after: Spend[] = [
        { user: 'a', amount: 4 },
        { user: 'c', amount: 5 },
      ];
      const commands: Command[] = [{ kind: 'scale', factor: 10 }, { kind: 'forget' }];
      // Spends before the commands are all processed, then every instance processes the
      // commands, then the later spends come.
      const firstProcessed = latch(before.length);
      const commandsProcessed = latch(commands.length * p);
      const spends = (elements: Spend[], gate: Latch, name: string) =>
        env.fromSource(
          new GatedSource(elements, gate.opened),
          WatermarkStrategy.noWatermarks<Spend>(),
          name,
        );
      const out = await spends(before, latch(0), 'before')
        .union(spends(after, commandsProcessed, 'after'))
        .keyBy((s) => s.user)
        .connect(
          env
            .fromSource(
              new GatedSource(commands, firstProcessed.opened),
              WatermarkStrategy.noWatermarks<Command>(),
              'commands',
            )
            .broadcast(commandsDescriptor),
        )
        .process(
          new Totals(
            () => firstProcessed.countDown(),
            () => commandsProcessed.countDown(),
          ),
        )
        .executeAndCollect();
      expect(out.filter((l) => l.startsWith('scaled')).sort()).toEqual([
        'scaled a',
        'scaled b',
        'scaled d',
      ]);
      expect(out.filter((l) => l.includes('total=')).sort()).toEqual([
        'a total=70 seen=4',
        'b total=30 seen=',
        'c total=50 seen=5',
        'd total=70 seen=',
      ]);
    },
  );
});

// ---- timers and contexts of a KeyedBroadcastProcessFunction in a job ----

const firedTag = new OutputTag<string>('fired');

/** Registers an event-time timer 10 ms after each item; the timer reports with the rules it sees. */
class Reminders extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
  constructor(private readonly ruleArrived: () => void) {
    super();
  }
  processBroadcastElement(rule: Rule, ctx: KeyedBroadcastContext<string>): void {
    ctx.getBroadcastState(ruleStateDescriptor).put(rule.name, rule);
    this.ruleArrived();
  }
  processElement(item: Item, ctx: KeyedBroadcastReadOnlyContext<string>): void {
    ctx.timerService().registerEventTimeTimer(item.ts + 10);
  }
  override onTimer(
    ts: number,
    ctx: KeyedBroadcastOnTimerContext<string>,
    out: Collector<string>,
  ): void {
    const rules = [...ctx.getBroadcastState(ruleStateDescriptor).immutableEntries()].length;
    out.collect(
      `${ctx.getCurrentKey()} ${ctx.timeDomain()} ${ts} ${ctx.timestamp()} rules=${rules}`,
    );
    ctx.output(firedTag, `${ctx.getCurrentKey()}@${ts}`);
  }
}

describe.each(BACKENDS)('timers of a KeyedBroadcastProcessFunction on %s', (backend) => {
  it.each([1, 3])(
    'fire when the watermark of both inputs passes them, with the broadcast state read-only (p=%i)',
    async (p) => {
      const env = localEnv({
        'parallelism.default': p,
        'state.backend.type': backend,
        'pipeline.auto-watermark-interval': 1,
      });
      const rulesStored = latch(RULES.length * p);
      const items = env.fromSource(
        new GatedSource(ITEMS.slice(0, 4), rulesStored.opened),
        WatermarkStrategy.forMonotonousTimestamps<Item>().withTimestampAssigner((i) => i.ts),
        'items',
      );
      const reminders = items
        .keyBy((i) => i.color)
        .connect(env.fromCollection(RULES).broadcast(ruleStateDescriptor))
        .process(new Reminders(() => rulesStored.countDown()));
      const out = await reminders.union(reminders.getSideOutput(firedTag)).executeAndCollect();
      expect(out.sort()).toEqual(
        [
          'red EVENT_TIME 11 11 rules=2',
          'blue EVENT_TIME 12 12 rules=2',
          'red EVENT_TIME 13 13 rules=2',
          'red EVENT_TIME 14 14 rules=2',
          'red@11',
          'blue@12',
          'red@13',
          'red@14',
        ].sort(),
      );
    },
  );
});

// ---- errors ----

describe.each(BACKENDS)('broadcast state: errors on %s', (backend) => {
  const job = (fn: KeyedBroadcastProcessFunction<string, Item, Rule, string>) => {
    const env = localEnv({ 'state.backend.type': backend });
    const ruleBroadcastStream = env.fromCollection(RULES).broadcast(ruleStateDescriptor);
    return env
      .fromCollection(ITEMS)
      .keyBy((i) => i.color)
      .connect(ruleBroadcastStream)
      .process(fn)
      .name('Matcher')
      .executeAndCollect();
  };

  it('a put() on the broadcast state from processElement fails naming the state and the operator', async () => {
    await expect(
      job(
        new (class extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
          processBroadcastElement(): void {}
          processElement(_i: Item, ctx: KeyedBroadcastReadOnlyContext<string>): void {
            const state = ctx.getBroadcastState(ruleStateDescriptor);
            (state as unknown as BroadcastState<string, Rule>).put('x', RULES[0]!);
          }
        })(),
      ),
    ).rejects.toThrow(
      /Matcher \(1\/1\): put\(\) on the broadcast state "RulesBroadcastState", which is read-only outside processBroadcastElement\(\)/,
    );
  });

  it('a broadcast state whose descriptor was not given to broadcast() is an error naming it', async () => {
    const typo = new MapStateDescriptor<string, Rule>('RuleBroadcastState');
    await expect(
      job(
        new (class extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
          processBroadcastElement(rule: Rule, ctx: KeyedBroadcastContext<string>): void {
            ctx.getBroadcastState(typo).put(rule.name, rule);
          }
          processElement(): void {}
        })(),
      ),
    ).rejects.toThrow(
      /Matcher \(1\/1\): the broadcast state "RuleBroadcastState" does not exist: .*give the descriptor to broadcast\(\.\.\.\) \(this operator's broadcast states: "RulesBroadcastState"\)/,
    );
  });

  it('the function must fit the stream: keyed takes KeyedBroadcastProcessFunction, non-keyed BroadcastProcessFunction', () => {
    const env = localEnv();
    const rules = env.fromCollection(RULES).broadcast(ruleStateDescriptor);
    const items = env.fromCollection(ITEMS);
    const nonKeyedFunction = new (class extends BroadcastProcessFunction<Item, Rule, string> {
      processElement(): void {}
      processBroadcastElement(): void {}
    })();
    expect(() =>
      items
        .keyBy((i) => i.color)
        .connect(rules)
        .process(nonKeyedFunction),
    ).toThrow(
      /A BroadcastProcessFunction can only be used on a non-keyed stream: on a keyed stream use a KeyedBroadcastProcessFunction/,
    );
    expect(() =>
      items
        .connect(rules)
        .process(
          new PatternMatcher() as unknown as KeyedBroadcastProcessFunction<
            never,
            Item,
            Rule,
            string
          >,
        ),
    ).toThrow(
      /A KeyedBroadcastProcessFunction can only be used on a keyed stream: call keyBy\(\) before connect\(broadcastStream\)/,
    );
    expect(() =>
      items.connect(rules).process({} as unknown as BroadcastProcessFunction<Item, Rule, string>),
    ).toThrow(/needs an instance of a BroadcastProcessFunction/);
    expect(() =>
      env
        .fromCollection(RULES)
        .broadcast(
          new ValueStateDescriptor<number>('x') as unknown as MapStateDescriptor<string, number>,
        ),
    ).toThrow(
      /broadcast\(\.\.\.\) takes the MapStateDescriptors of the broadcast states; got a ValueStateDescriptor/,
    );
  });
});

// ---- operator level: exact ordering ----

const keyOfItem = (i: Item) => i.color;
const item = (color: string, shape: Shape, ts: number): Item => ({ color, shape, ts });

describe.each(BACKENDS)('CoBroadcastWithKeyedOperator on %s', (backend) => {
  let harness: OperatorHarness<Item, string> | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const open = async (fn: KeyedBroadcastProcessFunction<string, Item, any, string>) =>
    (harness = await OperatorHarness.open<Item, string>(
      new CoBroadcastWithKeyedOperator(fn, [ruleStateDescriptor]),
      { backend, keySelector: keyOfItem, name: 'Matcher' },
    ));

  it('an element sees every broadcast element before it; broadcast elements keep their timestamps', async () => {
    const h = await open(new PatternMatcher());
    h.processElement1(item('red', 'rectangle', 1), 1);
    h.processElement1(item('red', 'triangle', 2), 2); // no rule yet: no match
    h.processElement2(RULES[0], 3);
    h.processElement1(item('red', 'rectangle', 4), 4);
    h.processElement1(item('red', 'triangle', 5), 5);
    expect(h.records).toEqual([{ value: 'MATCH: red rectangle@4 - red triangle@5', timestamp: 5 }]);
  });

  it('timers: the context tells the key, domain and time; side outputs carry the timer time; processing-time output has none', async () => {
    const tag = new OutputTag<string>('t');
    const h = await open(
      new (class extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
        processBroadcastElement(r: Rule, ctx: KeyedBroadcastContext<string>): void {
          ctx.getBroadcastState(ruleStateDescriptor).put(r.name, r);
        }
        processElement(i: Item, ctx: KeyedBroadcastReadOnlyContext<string>): void {
          ctx.timerService().registerEventTimeTimer(i.ts + 100);
          ctx.timerService().registerProcessingTimeTimer(50);
        }
        override onTimer(
          ts: number,
          ctx: KeyedBroadcastOnTimerContext<string>,
          out: Collector<string>,
        ): void {
          const rules = [...ctx.getBroadcastState(ruleStateDescriptor).immutableEntries()];
          out.collect(
            `${ctx.getCurrentKey()} ${ctx.timeDomain()} ${ts} ${ctx.timestamp()} ${rules.length}`,
          );
          ctx.output(tag, `${ctx.getCurrentKey()}@${ts}`);
        }
      })(),
    );
    h.processElement2(RULES[0], undefined);
    h.processElement1(item('red', 'circle', 1), 1);
    h.processElement1(item('blue', 'circle', 2), 2);
    h.setProcessingTime(50);
    const processingTime = [
      { value: `red ${TimeDomain.PROCESSING_TIME} 50 50 1`, timestamp: undefined },
      { value: `blue ${TimeDomain.PROCESSING_TIME} 50 50 1`, timestamp: undefined },
    ];
    expect(h.records).toEqual(processingTime);
    h.processWatermark1(200);
    expect(h.records).toEqual(processingTime); // the broadcast input holds the watermark back
    h.processWatermark2(101);
    expect(h.records).toEqual([
      ...processingTime,
      { value: `red ${TimeDomain.EVENT_TIME} 101 101 1`, timestamp: 101 },
    ]);
    expect(h.sideOutput('t')).toEqual([
      { value: 'red@50', timestamp: 50 },
      { value: 'blue@50', timestamp: 50 },
      { value: 'red@101', timestamp: 101 },
    ]);
    expect(h.watermarks).toEqual([101]);
  });

  it('the element side and timers cannot change the broadcast state', async () => {
    const h = await open(
      new (class extends KeyedBroadcastProcessFunction<string, Item, Rule, string> {
        processBroadcastElement(): void {}
        processElement(i: Item, ctx: KeyedBroadcastReadOnlyContext<string>): void {
          ctx.timerService().registerEventTimeTimer(i.ts);
          const state = ctx.getBroadcastState(ruleStateDescriptor) as unknown as BroadcastState<
            string,
            Rule
          >;
          if (i.shape === 'circle') state.clear();
        }
        override onTimer(_ts: number, ctx: KeyedBroadcastOnTimerContext<string>): void {
          const state = ctx.getBroadcastState(ruleStateDescriptor) as unknown as BroadcastState<
            string,
            Rule
          >;
          state.remove('x');
        }
      })(),
    );
    expect(() => h.processElement1(item('red', 'circle', 1), 1)).toThrow(
      /Matcher \(1\/1\): clear\(\) on the broadcast state "RulesBroadcastState", which is read-only/,
    );
    h.processElement1(item('red', 'square' as Shape, 1), 1);
    h.processWatermark1(5);
    expect(() => h.processWatermark2(5)).toThrow(
      /Matcher \(1\/1\): remove\(\) on the broadcast state "RulesBroadcastState", which is read-only/,
    );
  });
});

/**
 * Counts per color; a broadcast `scale` multiplies every color's count (and is kept in the
 * broadcast state), `forget` clears every count.
 */
class Counter extends KeyedBroadcastProcessFunction<string, Item, Command, string> {
  private readonly countDescriptor = new ValueStateDescriptor<number>('count');
  private count!: ValueState<number>;
  override open(ctx: RuntimeContext): void {
    this.count = ctx.getState(this.countDescriptor);
  }
  processElement(
    i: Item,
    ctx: KeyedBroadcastReadOnlyContext<string>,
    out: Collector<string>,
  ): void {
    this.count.update((this.count.value() ?? 0) + 1);
    ctx.timerService().registerProcessingTimeTimer(100);
    out.collect(`${i.color}=${this.count.value()}`);
  }
  processBroadcastElement(
    c: Command,
    ctx: KeyedBroadcastContext<string>,
    out: Collector<string>,
  ): void {
    if (c.kind === 'scale') {
      const commands = ctx.getBroadcastState(commandsDescriptor);
      commands.put('factor', (commands.get('factor') ?? 1) * c.factor);
      ctx.applyToKeyedState(this.countDescriptor, (color, count) => {
        count.update(count.value()! * c.factor);
        out.collect(`scaled ${color}`);
      });
    } else {
      ctx.applyToKeyedState(this.countDescriptor, (color, count) => {
        count.clear();
        out.collect(`forgot ${color}`);
      });
      // Applied after the first: the keys it cleared have no entry left to visit.
      ctx.applyToKeyedState(this.countDescriptor, (color) => out.collect(`left ${color}`));
    }
  }
  override onTimer(
    _ts: number,
    ctx: KeyedBroadcastOnTimerContext<string>,
    out: Collector<string>,
  ): void {
    out.collect(`timer ${ctx.getCurrentKey()} ${this.count.value()}`);
  }
}

describe.each(BACKENDS)('applyToKeyedState on %s (operator)', (backend) => {
  let harness: OperatorHarness<Item, string> | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });
  const open = async () =>
    (harness = await OperatorHarness.open<Item, string>(
      new CoBroadcastWithKeyedOperator(new Counter(), [commandsDescriptor]),
      { backend, keySelector: keyOfItem, name: 'Counter' },
    ));
  /** The records and watermarks emitted, with the keys of each application sorted (their order is the backend's). */
  const emitted = (h: OperatorHarness<Item, string>, ...applications: [number, number][]) => {
    const out = h.events.map((e) =>
      e.kind === 'record' ? `${e.value}@${e.timestamp}` : `${e.kind} ${JSON.stringify(e)}`,
    );
    for (const [from, to] of applications)
      out.splice(from, to - from, ...out.slice(from, to).sort());
    return out;
  };

  it('elements, watermarks and timers that arrive while it is applied come after it, in order', async () => {
    const h = await open();
    h.processElement1(item('red', 'circle', 1), 1);
    h.processElement1(item('blue', 'circle', 2), 2);
    h.processElement1(item('red', 'circle', 3), 3);
    h.processElement2({ kind: 'scale', factor: 10 }, 4);
    // level reads the keys asynchronously and holds its input back meanwhile.
    if (backend === 'level') expect(h.operator.availability()).toBeInstanceOf(Promise);
    h.processElement1(item('red', 'circle', 5), 5);
    h.processWatermark1(6);
    h.processWatermark2(6);
    h.setProcessingTime(100);
    h.processElement2({ kind: 'scale', factor: 2 }, 7);
    h.processElement1(item('blue', 'circle', 8), 8);
    await h.whenAvailable();
    expect(emitted(h, [3, 5], [9, 11])).toEqual([
      'red=1@1',
      'blue=1@2',
      'red=2@3',
      'scaled blue@4',
      'scaled red@4',
      'red=21@5',
      'watermark {"kind":"watermark","watermark":6}',
      'timer red 21@undefined',
      'timer blue 10@undefined',
      'scaled blue@7',
      'scaled red@7',
      'blue=21@8',
    ]);
  });

  it('calls are applied in order: a key cleared by one is not visited by the next', async () => {
    const h = await open();
    h.processElement1(item('red', 'circle', 1), 1);
    h.processElement1(item('blue', 'circle', 2), 2);
    h.processElement2({ kind: 'forget' }, 3);
    h.processElement1(item('red', 'circle', 4), 4);
    await h.whenAvailable();
    expect(emitted(h, [2, 4])).toEqual([
      'red=1@1',
      'blue=1@2',
      'forgot blue@3',
      'forgot red@3',
      'red=1@4',
    ]);
  });

  it('a checkpoint completes a pending application and what waited behind it before its snapshot', async () => {
    const h = await open();
    h.processElement1(item('red', 'circle', 1), 1);
    h.processElement2({ kind: 'scale', factor: 10 }, 2);
    h.processElement1(item('red', 'circle', 3), 3);
    const snapshot = await h.snapshotOperatorState(1);
    expect(h.operator.availability()).toBeUndefined();
    expect(emitted(h)).toEqual(['red=1@1', 'scaled red@2', 'red=11@3']);
    expect(snapshot).toEqual(
      new Map([['commands', { mode: 'broadcast', values: [['factor', 10]] }]]),
    );
  });

  it('the end of input completes a pending application', async () => {
    const h = await open();
    h.processElement1(item('red', 'circle', 1), 1);
    h.processElement2({ kind: 'scale', factor: 10 }, 2);
    h.processElement1(item('red', 'circle', 3), 3);
    await h.finish();
    expect(emitted(h)).toEqual(['red=1@1', 'scaled red@2', 'red=11@3']);
  });
});

describe('CoBroadcastWithNonKeyedOperator', () => {
  it("elements read what the broadcast elements before them wrote; the watermark is both inputs' minimum", async () => {
    const seen: string[] = [];
    const h = await OperatorHarness.open<Payment, string>(
      new CoBroadcastWithNonKeyedOperator(
        new (class extends BroadcastProcessFunction<Payment, Setting, string> {
          processElement(p: Payment, ctx: BroadcastReadOnlyContext, out: Collector<string>): void {
            const rate = ctx.getBroadcastState(settingsDescriptor).get('rate');
            out.collect(`${p.id} ${rate === undefined ? '-' : p.cents * rate}`);
            seen.push(`wm ${ctx.currentWatermark()} ts ${ctx.timestamp()}`);
          }
          processBroadcastElement(s: Setting, ctx: BroadcastContext, out: Collector<string>): void {
            ctx.getBroadcastState(settingsDescriptor).put(s.key, s.value);
            out.collect(`${s.key}=${s.value}`);
          }
        })(),
        [settingsDescriptor],
      ),
      { name: 'Converter' },
    );
    h.processElement1({ id: 'p1', cents: 5 }, 1);
    h.processElement2({ key: 'rate', value: 2 }, 2);
    h.processWatermark1(10);
    h.processWatermark2(7);
    h.processElement1({ id: 'p2', cents: 5 }, 11);
    expect(h.records).toEqual([
      { value: 'p1 -', timestamp: 1 },
      { value: 'rate=2', timestamp: 2 },
      { value: 'p2 10', timestamp: 11 },
    ]);
    expect(seen).toEqual([`wm ${MIN_TIMESTAMP} ts 1`, 'wm 7 ts 11']);
    expect(h.watermarks).toEqual([7]);
    await h.close();
  });
});

// ---- checkpoints and rescaling ----

describe('broadcast state in checkpoints', () => {
  it('every instance of a job restored at any parallelism gets the broadcast state', async () => {
    // Two instances of a parallelism-2 job, each with the rules, as a checkpoint holds them.
    const old: RestoredOperatorStates[] = [];
    for (let i = 0; i < 2; i++) {
      const h = await OperatorHarness.open<Item, string>(
        new CoBroadcastWithKeyedOperator(new PatternMatcher(), [ruleStateDescriptor]),
        { backend: 'hashmap', keySelector: keyOfItem, name: 'Matcher' },
      );
      h.processElement2(RULES[0], 1);
      old.push(await h.snapshotOperatorState(7));
      await h.close();
    }
    const metadata: CheckpointMetadata = {
      version: 1,
      jobId: 'job',
      checkpointId: 7,
      type: 'CHECKPOINT',
      timestamp: 0,
      operators: [
        {
          uid: 'matcher',
          name: 'Matcher',
          parallelism: 2,
          maxParallelism: 128,
          subtasks: old.map((states, subtask) => ({
            subtask,
            operatorState: Object.fromEntries(
              [...states].map(([name, e]) => [name, encodeOpaque(e.values)]),
            ),
            operatorStateModes: Object.fromEntries([...states].map(([name, e]) => [name, e.mode])),
          })),
        },
      ],
    };
    for (const parallelism of [3, 1]) {
      for (let subtask = 0; subtask < parallelism; subtask++) {
        const restored = restoredOperatorState(
          { metadataDir: 'file:///nowhere', metadata },
          'matcher',
          subtask,
          parallelism,
        )!;
        const h = await OperatorHarness.open<Item, string>(
          new CoBroadcastWithKeyedOperator(new PatternMatcher(), [ruleStateDescriptor]),
          {
            backend: 'hashmap',
            keySelector: keyOfItem,
            name: 'Matcher',
            restoredState: restored.states,
          },
        );
        h.processElement1(item('red', 'rectangle', 1), 1);
        h.processElement1(item('red', 'triangle', 2), 2);
        expect(h.records.map((r) => r.value)).toEqual(['MATCH: red rectangle@1 - red triangle@2']);
        await h.close();
      }
    }
  });
});

// ---- the backends' applyToAllKeys ----

describe.each(BACKENDS)('KeyedStateBackend.applyToAllKeys on %s', (kind: StateBackendKind) => {
  let backend: KeyedStateBackend | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await backend?.close();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    backend = dir = undefined;
  });
  const open = async (writeBatchSize?: number) => {
    if (kind === 'level') dir = await mkdtemp(join(tmpdir(), 'nimble-apply-'));
    backend = createKeyedStateBackend({
      kind,
      operatorName: 'Apply (1/1)',
      maxParallelism: 128,
      keyGroupRange: KeyGroupRange.forOperatorIndex(128, 1, 0),
      localDir: dir,
      writeBatchSize,
    });
    await backend.open();
    return backend;
  };
  const applyAll = async <S extends ValueState<number>>(
    b: KeyedStateBackend,
    namespace: string,
    descriptor: ValueStateDescriptor<number>,
    fn: (key: Key, state: S) => void,
  ) => {
    const pending = b.applyToAllKeys(
      namespace,
      descriptor,
      fn as (key: Key, state: ValueState<number>) => void,
    );
    expect(pending === undefined).toBe(kind === 'hashmap');
    if (pending !== undefined) {
      await pending.ready;
      pending.apply();
    }
  };
  const keyText = (k: Key): string =>
    Array.isArray(k) ? `[${k.map(keyText).join(',')}]` : `${typeof k}:${String(k)}`;
  const set = (b: KeyedStateBackend, key: Key, value: number | undefined, namespace = '') => {
    b.setCurrentKey(key, assignKeyGroup(key));
    const state = b.getState(descriptor);
    state.setCurrentNamespace(namespace);
    state.update(value);
  };
  const descriptor = new ValueStateDescriptor<number>('v');

  it('visits every key with an entry in the namespace, whatever its kind, once; the function may update and clear', async () => {
    const b = await open();
    const keys: Key[] = ['a', 7, 10n, true, ['x', 1], '\u0000nul', 'gone'];
    keys.forEach((k, i) => set(b, k, i + 1));
    set(b, 'gone', undefined); // cleared: no entry
    set(b, 'window-only', 5, 'w1'); // an entry in another namespace only
    const visited: string[] = [];
    await applyAll(b, '', descriptor, (key, state) => {
      visited.push(keyText(key));
      expect(b.getCurrentKey()).toEqual(key);
      if (key === 7) state.clear();
      else state.update(state.value()! * 10);
    });
    expect(visited.sort()).toEqual(keys.slice(0, 6).map(keyText).sort());
    const after: string[] = [];
    await applyAll(b, '', descriptor, (key, state) =>
      after.push(`${keyText(key)}=${state.value()}`),
    );
    expect(after.sort()).toEqual(
      [
        'string:a=10',
        'bigint:10=30',
        'boolean:true=40',
        '[string:x,number:1]=50',
        'string:\u0000nul=60',
      ].sort(),
    );
    const inWindow: string[] = [];
    await applyAll(b, 'w1', descriptor, (key, state) =>
      inWindow.push(`${keyText(key)}=${state.value()}`),
    );
    expect(inWindow).toEqual(['string:window-only=5']);
  });

  it('sees the state as of the call: entries written back, in flight and still in the write-back cache, and not deleted ones', async () => {
    // Batches of 2: the writes spread over LevelDB, batches in flight and the write-back cache.
    const b = await open(2);
    for (let i = 0; i < 20; i++) set(b, `k${i}`, i);
    await b.flush();
    set(b, 'k3', undefined); // a delete over a written entry
    for (let i = 20; i < 25; i++) set(b, `k${i}`, i);
    set(b, 'k21', undefined); // a delete of an entry never written back
    const visited: string[] = [];
    await applyAll(b, '', descriptor, (key) => visited.push(String(key)));
    const expected = Array.from({ length: 25 }, (_, i) => `k${i}`).filter(
      (k) => k !== 'k3' && k !== 'k21',
    );
    expect(visited.sort()).toEqual(expected.sort());
  });

  it('a state never written has no keys; the state is registered', async () => {
    const b = await open();
    const visited: Key[] = [];
    await applyAll(b, '', new ValueStateDescriptor<number>('never'), (key) => visited.push(key));
    expect(visited).toEqual([]);
  });
});

function assignKeyGroup(key: Key): number {
  return assignToKeyGroup(key, 128);
}
