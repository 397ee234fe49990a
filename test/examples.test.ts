import { Duration, installPipelineExecutor, StreamExecutionEnvironment } from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Purchase } from '@nimble/examples/purchases';
import type * as LateDataModule from '@nimble/examples/late-data';
import type * as SessionsModule from '@nimble/examples/session-tracker';
import type { ModelHotReloadOptions, ScoredPurchase } from '@nimble/examples/model-scoring';
import { scoredPurchases } from '@nimble/examples/model-scoring';
import { expectedScores } from './fixtures/model-scores.js';
import type * as AsyncEnrichmentModule from '@nimble/examples/async-enrichment';
import type * as DelayedLabelsModule from '@nimble/examples/delayed-label-join';
import { purchaseAt } from '@nimble/examples/purchases';
import { generatedPurchases } from '@nimble/examples/user-spend-pipeline';

let lateData: typeof LateDataModule;
let sessions: typeof SessionsModule;
let asyncEnrichment: typeof AsyncEnrichmentModule;
let delayedLabels: typeof DelayedLabelsModule;

beforeAll(async () => {
  // Import the example modules for their functions, without running their jobs.
  process.env['NIMBLE_EXAMPLE_IMPORT'] = '1';
  lateData = await import('@nimble/examples/late-data');
  sessions = await import('@nimble/examples/session-tracker');
  asyncEnrichment = await import('@nimble/examples/async-enrichment');
  delayedLabels = await import('@nimble/examples/delayed-label-join');
});

function env(configuration: Record<string, string | number> = {}): StreamExecutionEnvironment {
  installPipelineExecutor(new LocalExecutor({ threads: false }));
  return StreamExecutionEnvironment.getExecutionEnvironment(configuration);
}

describe('late-data example (allowed lateness, late firing, late side output)', () => {
  it.each(['hashmap', 'level'])(
    'produces exactly the results Flink specifies (%s)',
    async (backend) => {
      const e = env({ 'state.backend.type': backend });
      const { windowed, late } = lateData.buildLateDataJob(e);
      const out = await windowed
        .map((x) => `window ${x.join(' ')}`)
        .union(late.map((x) => `late ${x.join(' ')}`))
        .executeAndCollect();
      const MIN = 60_000;
      // Each stream keeps its order; the two streams reach the collecting sink on separate channels.
      expect(out.filter((line) => line.startsWith('window'))).toEqual([
        `window alice 30 ${3 * MIN}`, // [0, 5 min) fires when the watermark passes 4:59.999
        `window bob 5 ${4 * MIN}`,
        `window alice 31 ${4 * MIN + 30_000}`, // late firing: a late element within the allowed lateness
        `window alice 7 ${5 * MIN + 20_000}`, // [5, 10 min)
        `window bob 3 ${5 * MIN + 45_000}`,
        `window bob 8 ${12 * MIN}`, // [10, 15 min), at the end of input
      ]);
      // Arrives after the window's cleanup time: to the side output, not dropped.
      expect(out.filter((line) => line.startsWith('late'))).toEqual([`late alice 100 ${2 * MIN}`]);
    },
  );

  it('runs as a program and prints the features and the late purchase', () => {
    const script = fileURLToPath(new URL('../packages/examples/src/late-data.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = spawnSync(tsx, [script], {
      encoding: 'utf8',
      env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
    });
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('feature>'))).toEqual([
      'feature> spend_5min alice 30',
      'feature> spend_5min bob 5',
      'feature> spend_5min alice 31',
      'feature> spend_5min alice 7',
      'feature> spend_5min bob 3',
      'feature> spend_5min bob 8',
    ]);
    expect(lines.filter((l) => l.startsWith('investigate>'))).toEqual([
      'investigate> late alice 100 at 120000',
    ]);
    expect(lines).toHaveLength(7);
  });
});

describe('user-spend example (the quick start job)', () => {
  it('runs on worker threads with the arguments it was given', () => {
    const script = fileURLToPath(
      new URL('../packages/examples/src/user-spend.ts', import.meta.url),
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = spawnSync(tsx, [script, '--users', '5', '--events', '20000', '--rate', '0'], {
      encoding: 'utf8',
      env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
    });
    expect(run.status).toBe(0);
    const features = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line.replace(/^\d+> /, '')) as { user_id: string; spend_5min_usd: number },
      );
    // Parallelism 2: each line is prefixed by its subtask; every user of the 5 has a feature.
    expect(new Set(features.map((f) => f.user_id))).toEqual(
      new Set(['user-0', 'user-1', 'user-2', 'user-3', 'user-4']),
    );
    expect(features.every((f) => f.spend_5min_usd > 0)).toBe(true);
    expect(run.stdout).toMatch(/^[12]> \{"user_id"/m);
  });
});

describe('session tracker example (KeyedProcessFunction, TTL state)', () => {
  it.each(['hashmap', 'level'])(
    'emits a session when the next event comes after 30 minutes (%s)',
    async (backend) => {
      const MIN = 60_000;
      const p = (user: string, minute: number): Purchase => ({
        user_id: user,
        amount_usd: 1,
        category_id: 1,
        event_time_ms: minute * MIN,
      });
      const input = [
        p('u1', 0),
        p('u1', 10),
        p('u2', 5),
        p('u1', 20),
        p('u1', 51),
        p('u2', 40),
        p('u1', 52),
        p('u1', 100),
      ];
      const out = await env({ 'state.backend.type': backend })
        .fromCollection(input)
        .keyBy((e) => e.user_id)
        .process(new sessions.UserSessionTracker())
        .executeAndCollect();
      expect(out).toEqual([
        {
          user_id: 'u1',
          session_start_ts: 0,
          session_end_ts: 20 * MIN,
          session_duration_s: 1200,
          session_event_count: 3,
        },
        {
          user_id: 'u2',
          session_start_ts: 5 * MIN,
          session_end_ts: 5 * MIN,
          session_duration_s: 0,
          session_event_count: 1,
        },
        {
          user_id: 'u1',
          session_start_ts: 51 * MIN,
          session_end_ts: 52 * MIN,
          session_duration_s: 60,
          session_event_count: 2,
        },
      ]);
    },
  );
});

describe('model hot-reload example (broadcast state)', () => {
  const options: ModelHotReloadOptions = {
    purchases: 600,
    stream: { users: 7, msPerEvent: 1000, maxDelayMs: 5000 },
    models: 4,
    modelIntervalMs: 2 * 60_000,
  };
  const sorted = (scores: ScoredPurchase[]) => scores.map((s) => JSON.stringify(s)).sort();

  it.each([
    ['hashmap', 1],
    ['hashmap', 3],
    ['level', 1],
    ['level', 3],
  ] as const)(
    'scores every purchase with the model version valid at its event time (%s, p=%i)',
    async (backend, p) => {
      const e = env({ 'state.backend.type': backend, 'parallelism.default': p });
      const out = await scoredPurchases(e, options).executeAndCollect();
      const expected = expectedScores(options);
      expect(new Set(expected.map((s) => s.model_version))).toEqual(new Set([1, 2, 3, 4]));
      expect(sorted(out)).toEqual(sorted(expected));
    },
  );

  it('runs as a program and prints the scored purchases', () => {
    const script = fileURLToPath(
      new URL('../packages/examples/src/model-hot-reload.ts', import.meta.url),
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = spawnSync(
      tsx,
      [script, '--users', '5', '--events', '300', '--models', '3', '--model-interval-ms', '90000'],
      { encoding: 'utf8', env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' } },
    );
    expect(run.status, run.stderr).toBe(0);
    // Parallelism 2: each line is prefixed by the print sink's name and subtask.
    const lines = run.stdout.trim().split('\n');
    expect(lines.every((l) => /^scored:[12]> \{/.test(l))).toBe(true);
    const printed = lines.map((l) => JSON.parse(l.replace(/^scored:\d> /, '')) as ScoredPurchase);
    expect(sorted(printed)).toEqual(
      sorted(
        expectedScores({
          purchases: 300,
          stream: { users: 5, msPerEvent: 1000, maxDelayMs: 5000 },
          models: 3,
          modelIntervalMs: 90_000,
        }),
      ),
    );
  });
});

describe('async-enrichment example (Async I/O: profile lookups over HTTP)', () => {
  it.each(['hashmap', 'level'])(
    'enriches every purchase with its profile and totals spend per user and window exactly (%s)',
    async (backend) => {
      const service = await asyncEnrichment.startProfileService();
      try {
        const stream = { users: 30, msPerEvent: 100, maxDelayMs: 3000 };
        const events = 5000;
        const e = env({ 'state.backend.type': backend, 'parallelism.default': 2 });
        // The service runs on this process's event loop, beside the job: on a loaded machine a
        // lookup can wait seconds for its answer, so the timeout is far above the example's 5 s.
        const out = await asyncEnrichment
          .enrichedSpend5Min(
            generatedPurchases(e, events, stream),
            service.url,
            Duration.ofMinutes(2),
          )
          .executeAndCollect();
        const cents = (x: number) => Math.round(x * 100) / 100;
        const expected = new Map<string, number>();
        for (let i = 0; i < events; i++) {
          const p = purchaseAt(i, stream);
          const { segment, country } = asyncEnrichment.profileOf(p.user_id);
          const key = `${p.user_id} ${segment} ${country} ${Math.floor(p.event_time_ms / 300_000)}`;
          expected.set(key, (expected.get(key) ?? 0) + p.amount_usd);
        }
        const actual = out.map(
          (r) =>
            `${r.user_id} ${r.segment} ${r.country} ${Math.floor(r.event_time_ms / 300_000)} ${cents(r.amount_usd)}`,
        );
        expect(actual.sort()).toEqual(
          [...expected].map(([key, sum]) => `${key} ${cents(sum)}`).sort(),
        );
      } finally {
        await service.close();
      }
    },
    180_000,
  );

  it('runs as a program on worker threads against the service it starts', () => {
    const script = fileURLToPath(
      new URL('../packages/examples/src/async-enrichment.ts', import.meta.url),
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = spawnSync(tsx, [script, '--events', '3000', '--users', '10'], {
      encoding: 'utf8',
      env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
    });
    expect(run.status, run.stderr).toBe(0);
    const features = run.stdout
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line.replace(/^\d+> /, '')) as {
            user_id: string;
            segment: string;
            country: string;
            spend_5min_usd: number;
          },
      );
    expect(new Set(features.map((f) => f.user_id)).size).toBe(10);
    for (const f of features) {
      const { segment, country } = asyncEnrichment.profileOf(f.user_id);
      expect([f.segment, f.country]).toEqual([segment, country]);
    }
  });
});

describe('delayed label join example (interval join)', () => {
  /** The training examples of `predictions` predictions, from the definition of the join. */
  function expectedExamples(predictions: number): string[] {
    const { predictionAt, purchaseAt, purchaseCount, LABEL_WINDOW } = delayedLabels;
    const window = LABEL_WINDOW.toMillis();
    const lines: string[] = [];
    for (let j = 0; j < purchaseCount(predictions); j++) {
      const purchase = purchaseAt(j);
      for (let i = 0; i < predictions; i++) {
        const p = predictionAt(i);
        if (p.user_id !== purchase.user_id || p.item_id !== purchase.item_id) continue;
        const delay = purchase.event_time_ms - p.event_time_ms;
        if (delay >= 0 && delay <= window)
          lines.push(`${p.prediction_id} ${delay} ${purchase.amount_usd}`);
      }
    }
    return lines.sort();
  }

  it.each(['hashmap', 'level'])(
    'labels exactly the predictions followed by a purchase of the item within 10 minutes (%s, p=2)',
    async (backend) => {
      const e = env({ 'state.backend.type': backend, 'parallelism.default': 2 });
      const { predictions, purchases } = delayedLabels.generatedStreams(e, 2000);
      const out = await delayedLabels.delayedLabelJoin(predictions, purchases).executeAndCollect();
      const expected = expectedExamples(2000);
      // Some purchases come too late for their prediction: fewer examples than purchases.
      expect(expected.length).toBeGreaterThan(300);
      expect(expected.length).toBeLessThan(delayedLabels.purchaseCount(2000));
      expect(
        out.map((x) => `${x.prediction_id} ${x.label_delay_ms} ${x.amount_usd}`).sort(),
      ).toEqual(expected);
      const first = out.find((x) => x.prediction_id === 'pred-0')!;
      expect(first).toEqual({
        prediction_id: 'pred-0',
        user_id: 'user-0',
        item_id: 'item-0',
        score: 0,
        features: { user_spend_7d_usd: 0, item_popularity: 0 },
        label: 1,
        label_delay_ms: 0,
        amount_usd: 5,
      });
    },
  );

  it('runs as a program and prints the training examples', () => {
    const script = fileURLToPath(
      new URL('../packages/examples/src/delayed-label-join.ts', import.meta.url),
    );
    const tsx = fileURLToPath(new URL('../node_modules/.bin/tsx', import.meta.url));
    const run = spawnSync(tsx, [script, '--predictions', '400'], {
      encoding: 'utf8',
      env: { ...process.env, NIMBLE_EXAMPLE_IMPORT: '0' },
    });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines.every((l) => l.startsWith('training-example> {'))).toBe(true);
    const examples = lines.map(
      (l) =>
        JSON.parse(l.slice('training-example> '.length)) as {
          prediction_id: string;
          label_delay_ms: number;
          amount_usd: number;
        },
    );
    expect(
      examples.map((x) => `${x.prediction_id} ${x.label_delay_ms} ${x.amount_usd}`).sort(),
    ).toEqual(expectedExamples(400));
  });
});

describe("the examples' options", () => {
  async function parse(argv: string[], unbounded: 'events'[] = []) {
    const { jobArgs } = await import('../packages/examples/src/args.js');
    const saved = process.argv;
    process.argv = [saved[0]!, 'job.ts', ...argv];
    try {
      return jobArgs({ events: 600_000, users: 1000 }, { unbounded });
    } finally {
      process.argv = saved;
    }
  }

  it('takes Infinity for an unbounded event count, and only there', async () => {
    expect(await parse(['--events', 'Infinity'], ['events'])).toEqual({
      events: Infinity,
      users: 1000,
    });
    await expect(parse(['--users', 'Infinity'], ['events'])).rejects.toThrow(
      '--users needs a number; got "Infinity"',
    );
    await expect(parse(['--events', 'Infinity'])).rejects.toThrow(
      '--events needs a number; got "Infinity"',
    );
    await expect(parse(['--events', 'many'], ['events'])).rejects.toThrow(
      '--events needs a number or Infinity; got "many"',
    );
  });
});
