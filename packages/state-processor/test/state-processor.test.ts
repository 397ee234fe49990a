import '@nimble/runtime/local';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Collector, ValueState } from '@nimble/api';
import {
  Duration,
  installedPipelineExecutor,
  installPipelineExecutor,
  StateTtlConfig,
  StreamExecutionEnvironment,
  ValueStateDescriptor,
} from '@nimble/api';
import { openSavepoint } from '@nimble/runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  KeyedStateBootstrapFunction,
  KeyedStateReaderFunction,
  type KeyedStateBootstrapContext,
  OperatorIdentifier,
  OperatorTransformation,
  SavepointReader,
  SavepointWriter,
  StateProcessorError,
} from '@nimble/state-processor';

const SUM = new ValueStateDescriptor<number>('sum', 0);

class SumBootstrap extends KeyedStateBootstrapFunction<string, [string, number]> {
  private sum!: ValueState<number>;
  override open(): void {
    this.sum = this.getRuntimeContext().getState(SUM);
  }
  processElement(v: [string, number]): void {
    this.sum.update((this.sum.value() ?? 0) + v[1]);
  }
}

class SumReader extends KeyedStateReaderFunction<string, string> {
  private sum!: ValueState<number>;
  override open(): void {
    this.sum = this.getRuntimeContext().getState(SUM);
  }
  readKey(key: string, _ctx: unknown, out: Collector<string>): void {
    out.collect(`${key}=${this.sum.value()}`);
  }
}

let work: string;
let savepoint: string;

async function bootstrap(path: string, parallelism: number): Promise<void> {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  const input = Array.from({ length: 100 }, (_, i): [string, number] => [`k${i % 13}`, i]);
  SavepointWriter.newSavepoint(env)
    .withOperator(
      OperatorIdentifier.forUid('sums'),
      OperatorTransformation.bootstrapWith(env.fromCollection(input))
        .keyBy((v) => v[0])
        .transform(new SumBootstrap())
        .setParallelism(parallelism),
    )
    .write(path);
  await env.execute('bootstrap');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'nimble-sp-unit-'));
  savepoint = `file://${join(work, 'sums')}`;
  await bootstrap(savepoint, 3);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function expectedSums(): string[] {
  const sums = new Map<string, number>();
  for (let i = 0; i < 100; i++) sums.set(`k${i % 13}`, (sums.get(`k${i % 13}`) ?? 0) + i);
  return [...sums].map(([k, v]) => `${k}=${v}`).sort();
}

describe('SavepointWriter and SavepointReader in-process', () => {
  it('writes one file per subtask at the chosen parallelism and reads every key back', async () => {
    const metadata = JSON.parse(
      (await import('node:fs')).readFileSync(join(work, 'sums', '_metadata'), 'utf8'),
    );
    expect(metadata.type).toBe('SAVEPOINT');
    expect(metadata.operators.map((o: { uid: string }) => o.uid)).toEqual(['sums']);
    expect(metadata.operators[0].parallelism).toBe(3);
    expect(
      metadata.operators[0].subtasks.map(
        (s: { keyed?: { keyGroupRange: number[] } }) => s.keyed?.keyGroupRange,
      ),
    ).toEqual([
      [0, 42],
      [43, 85],
      [86, 127],
    ]);
    // Nothing but _metadata and the state files: the parts are gone.
    expect(readdirSync(join(work, 'sums')).filter((f) => !f.startsWith('sums-'))).toEqual([
      '_metadata',
    ]);
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const reader = await SavepointReader.read(env, `${savepoint}/_metadata`);
    const rows = await reader
      .readKeyedState(OperatorIdentifier.forUid('sums'), new SumReader())
      .executeAndCollect();
    expect(rows.sort()).toEqual(expectedSums());
  });

  it('reads one state as entries without a reader function', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const entries = await (
      await SavepointReader.read(env, savepoint)
    )
      .readState<string, number>(OperatorIdentifier.forUid('sums'), 'sum')
      .executeAndCollect();
    expect(entries.map((e) => `${e.key}=${e.value}${e.namespace}`).sort()).toEqual(expectedSums());
  });

  it('drops a state: the written savepoint has no entry of it', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const out = `file://${join(work, 'dropped')}`;
    (await SavepointWriter.fromExistingSavepoint(env, savepoint))
      .removeState(OperatorIdentifier.forUid('sums'), 'sum')
      .write(out);
    await env.execute('drop');
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment();
    const reader = await SavepointReader.read(env2, out);
    expect(reader.operatorUids()).toEqual(['sums']);
    expect(reader.metadata.operators[0]!.subtasks.every((s) => s.keyed === undefined)).toBe(true);
    await expect(
      reader.readState(OperatorIdentifier.forUid('sums'), 'sum').executeAndCollect(),
    ).rejects.toThrow(
      'Operator "sums" has no keyed state named "sum"; its keyed states are: (none)',
    );
  });

  it('bootstraps state with TTL: a reader with the same TTL sees it, stamped at bootstrap time', async () => {
    const ttl = StateTtlConfig.newBuilder(Duration.ofHours(1)).build();
    const last = new ValueStateDescriptor<string>('last');
    last.enableTimeToLive(ttl);
    class LastBootstrap extends KeyedStateBootstrapFunction<string, [string, number]> {
      private last!: ValueState<string>;
      override open(): void {
        this.last = this.getRuntimeContext().getState(last);
      }
      processElement(v: [string, number]): void {
        this.last.update(`#${v[1]}`);
      }
    }
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const out = `file://${join(work, 'ttl')}`;
    const before = Date.now();
    SavepointWriter.newSavepoint(env)
      .withOperator(
        OperatorIdentifier.forUid('last'),
        OperatorTransformation.bootstrapWith(
          env.fromElements<[string, number]>(['a', 1], ['b', 2], ['a', 3]),
        )
          .keyBy((v) => v[0])
          .transform(new LastBootstrap()),
      )
      .write(out);
    await env.execute('ttl');
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment();
    const reader = await SavepointReader.read(env2, out);
    class LastReader extends KeyedStateReaderFunction<string, string> {
      private last!: ValueState<string>;
      override open(): void {
        this.last = this.getRuntimeContext().getState(last);
      }
      readKey(key: string, _ctx: unknown, o: Collector<string>): void {
        o.collect(`${key}${this.last.value()}`);
      }
    }
    const rows = await reader
      .readKeyedState(OperatorIdentifier.forUid('last'), new LastReader())
      .executeAndCollect();
    expect(rows.sort()).toEqual(['a#3', 'b#2']);
    const view = await openSavepoint(out);
    const entries = [];
    for await (const e of view.operator('last').entries('last')) entries.push(e);
    view.close();
    expect(entries.every((e) => e.lastAccess! >= before && e.lastAccess! <= Date.now())).toBe(true);
    expect(entries.length).toBe(2);
  });

  it('writes the timers a bootstrap function registers, as the timer service snapshots them', async () => {
    class TimerBootstrap extends KeyedStateBootstrapFunction<string, [string, number]> {
      processElement(v: [string, number], ctx: KeyedStateBootstrapContext<string>): void {
        const timers = ctx.timerService();
        timers.registerEventTimeTimer(v[1] * 1000);
        timers.registerEventTimeTimer(v[1] * 1000); // once per key and time
        if (v[1] === 3) timers.deleteEventTimeTimer(1000);
        timers.registerProcessingTimeTimer(5);
      }
    }
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const out = `file://${join(work, 'timers')}`;
    SavepointWriter.newSavepoint(env)
      .withOperator(
        OperatorIdentifier.forUid('timers'),
        OperatorTransformation.bootstrapWith(
          env.fromElements<[string, number]>(['a', 1], ['b', 2], ['a', 3]),
        )
          .keyBy((v) => v[0])
          .transform(new TimerBootstrap()),
      )
      .write(out);
    await env.execute('timers');
    const view = await openSavepoint(out);
    const timers = await view.operator('timers').timers();
    view.close();
    expect(timers.map((t) => `${String(t.key)}:${t.domain}:${t.timestamp}`).sort()).toEqual([
      'a:event-time:3000',
      'a:processing-time:5',
      'b:event-time:2000',
      'b:processing-time:5',
    ]);
  });

  it('names a missing savepoint and a path that is not one', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const missing = `file://${join(work, 'nothing-here')}`;
    await expect(SavepointReader.read(env, missing)).rejects.toThrow(
      new StateProcessorError(
        `There is no savepoint at ${missing}: ${missing}/_metadata does not exist. Give the directory ` +
          'a savepoint was written to (as `nimble savepoint` or `nimble stop --savepointPath` printed it)',
      ),
    );
    await expect(SavepointWriter.fromExistingSavepoint(env, missing)).rejects.toThrow(
      StateProcessorError,
    );
    await expect(SavepointReader.read(env, 'relative/dir')).rejects.toThrow(
      /SavepointReader.read: "relative\/dir" is not a savepoint path/,
    );
  });

  it('names an unknown uid and lists the savepoint operators', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const reader = await SavepointReader.read(env, savepoint);
    expect(() =>
      reader.readKeyedState(OperatorIdentifier.forUid('summs'), new SumReader()),
    ).toThrow(
      `readKeyedState: the savepoint at ${savepoint} has no operator with uid "summs"; its operators are "sums"`,
    );
    const writer = await SavepointWriter.fromExistingSavepoint(env, savepoint);
    expect(() => writer.removeOperator(OperatorIdentifier.forUid('summs'))).toThrow(
      /removeOperator: .* has no operator with uid "summs"; its operators are "sums"/,
    );
    expect(() =>
      writer.changeOperatorIdentifier(
        OperatorIdentifier.forUid('sums'),
        OperatorIdentifier.forUid('sums'),
      ),
    ).not.toThrow();
  });

  it('fails the bootstrap on a key selector that returns no key, naming the operator', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const out = join(work, 'bad-key');
    SavepointWriter.newSavepoint(env)
      .withOperator(
        OperatorIdentifier.forUid('sums'),
        OperatorTransformation.bootstrapWith(env.fromElements<[string, number]>(['a', 1]))
          .keyBy((v) => ({ user: v[0] }) as unknown as string)
          .transform(new SumBootstrap()),
      )
      .write(`file://${out}`);
    await expect(env.execute('bad key')).rejects.toThrow(
      /Bootstrap of uid "sums": the key selector returned an object \(Object\)/,
    );
    expect(existsSync(join(out, '_metadata'))).toBe(false);
  });

  it('refuses to write _metadata after a detached submission, whose job is still running', async () => {
    const local = installedPipelineExecutor();
    installPipelineExecutor({
      execute: (p) =>
        Promise.resolve({
          jobId: 'f00d',
          jobName: p.jobName,
          netRuntimeMs: 0,
          collected: new Map(),
          detached: true,
        }),
    });
    try {
      const env = StreamExecutionEnvironment.getExecutionEnvironment();
      const out = join(work, 'detached');
      SavepointWriter.newSavepoint(env)
        .withOperator(
          OperatorIdentifier.forUid('sums'),
          OperatorTransformation.bootstrapWith(env.fromElements<[string, number]>(['a', 1]))
            .keyBy((v) => v[0])
            .transform(new SumBootstrap()),
        )
        .write(`file://${out}`);
      await expect(env.execute('detached')).rejects.toThrow(
        `SavepointWriter.write: job f00d was submitted detached (nimble run -d), but _metadata of file://${out} can only be written when the job has ended; run the script in-process (tsx script.ts) or with \`nimble run\` without -d`,
      );
      expect(existsSync(join(out, '_metadata'))).toBe(false);
    } finally {
      installPipelineExecutor(local);
    }
  });

  it('names an unknown state to drop and refuses writing over a savepoint', async () => {
    const env = StreamExecutionEnvironment.getExecutionEnvironment();
    const writer = await SavepointWriter.fromExistingSavepoint(env, savepoint);
    writer
      .removeState(OperatorIdentifier.forUid('sums'), 'summ')
      .write(`file://${join(work, 'x')}`);
    await expect(env.execute('drop')).rejects.toThrow(
      'removeState: operator uid "sums" has no keyed state named "summ"; its keyed states are "sum"',
    );
    const env2 = StreamExecutionEnvironment.getExecutionEnvironment();
    const again = await SavepointWriter.fromExistingSavepoint(env2, savepoint);
    expect(() => again.write(savepoint)).toThrow(
      `SavepointWriter.write: ${savepoint} is the savepoint being changed; write to a new directory`,
    );
    const env3 = StreamExecutionEnvironment.getExecutionEnvironment();
    const other = `file://${join(work, 'other')}`;
    await bootstrap(other, 1);
    const onto = await SavepointWriter.fromExistingSavepoint(env3, other);
    onto.write(savepoint);
    await expect(env3.execute('onto')).rejects.toThrow(
      `SavepointWriter.write: ${savepoint} already holds a savepoint (_metadata); write to a new directory`,
    );
    // The savepoint that was there is untouched.
    const env4 = StreamExecutionEnvironment.getExecutionEnvironment();
    const rows = await (
      await SavepointReader.read(env4, savepoint)
    )
      .readKeyedState(OperatorIdentifier.forUid('sums'), new SumReader())
      .executeAndCollect();
    expect(rows.sort()).toEqual(expectedSums());
  });
});
