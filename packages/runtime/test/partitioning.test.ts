import type { DataStream, StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { UserCodeError } from '../src/errors.js';
import { localEnv } from './support/local.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * Runs the pipeline with a print() sink at parallelism `p` behind the partitioning and returns
 * `[printed value, index of the sink subtask]` per element, read from print's `<i>> ` prefix
 * (none at parallelism 1). The sink is the operator right after the partitioner, so its subtask
 * is the one the partitioner chose.
 */
async function where<T extends string | number>(
  p: number,
  build: (env: StreamExecutionEnvironment) => DataStream<T>,
): Promise<[string, number][]> {
  let text = '';
  const env = localEnv({ 'parallelism.default': p }, { stdout: (t) => void (text += t) });
  build(env).print().name('Where');
  await env.execute();
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const m = /^(?:(\d+)> )?(.*)$/.exec(line)!;
      return [m[2]!, m[1] === undefined ? 0 : Number(m[1]) - 1];
    });
}

describe('shuffle()', () => {
  it.each([1, 3])('delivers every element exactly once (parallelism %i)', async (p) => {
    const input = range(3000);
    const out = await where(p, (env) => env.fromCollection(input).shuffle());
    expect(out.map(([v]) => Number(v)).sort((a, b) => a - b)).toEqual(input);
    expect(new Set(out.map(([, s]) => s))).toEqual(new Set(range(p)));
  });

  it('picks subtasks at random: about a third each, not round-robin', async () => {
    const out = await where(3, (env) => env.fromCollection(range(3000)).shuffle());
    const subtaskOf = new Map(out.map(([v, s]) => [Number(v), s]));
    const counts = [0, 0, 0];
    for (const [, s] of out) counts[s]!++;
    // Binomial(3000, 1/3): mean 1000, standard deviation 26; 700..1300 is beyond 11 sigma.
    for (const c of counts) expect(c).toBeGreaterThan(700);
    for (const c of counts) expect(c).toBeLessThan(1300);
    // Round-robin (rebalance) from one producer sends element i + 1 to the subtask after i's.
    const roundRobin = range(300).every(
      (i) => subtaskOf.get(i + 1) === (subtaskOf.get(i)! + 1) % 3,
    );
    expect(roundRobin).toBe(false);
  });
});

describe('partitionCustom()', () => {
  it.each([1, 3])(
    'sends each element to the subtask its partitioner chose (parallelism %i)',
    async (p) => {
      const seen = new Set<number>();
      const input = range(30);
      const tenantOf = (id: number) => (id * 7) % 5;
      const out = await where(p, (env) =>
        env.fromCollection(input).partitionCustom((tenant: number, numPartitions) => {
          seen.add(numPartitions);
          return tenant % numPartitions;
        }, tenantOf),
      );
      expect(out.map(([v]) => Number(v)).sort((a, b) => a - b)).toEqual(input);
      for (const [id, subtask] of out) expect(subtask).toBe(tenantOf(Number(id)) % p);
      // numPartitions is the next operator's parallelism.
      expect(seen).toEqual(new Set([p]));
    },
  );

  it('passes any key to the partitioner, not only keyBy keys', async () => {
    const out = await where(2, (env) =>
      env.fromElements('a', 'bb', 'ccc').partitionCustom(
        (key: { length: number }, n) => key.length % n,
        (s) => ({ length: s.length }),
      ),
    );
    expect(out.sort()).toEqual([
      ['a', 1],
      ['bb', 0],
      ['ccc', 1],
    ]);
  });

  it.each([
    [3, /returned 3 for the key 3; it must return an integer in \[0, 3\)/],
    [-1, /returned -1 for the key 3/],
    [1.5, /returned 1\.5 for the key 3/],
    [Number.NaN, /returned NaN for the key 3/],
  ])(
    'an index out of range (%s) fails the job, naming the operator and the value',
    async (bad, message) => {
      const job = where(3, (env) =>
        env.fromElements(1, 2, 3).partitionCustom(
          (key: number, n) => (key === 3 ? bad : key % n),
          (x) => x,
        ),
      );
      const error = await job.then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(
        /partitionCustom\(\) before Where in Collection Source \(1\/1\): the custom partitioner/,
      );
      expect(error?.message).toMatch(message);
      expect(error?.cause).toBeInstanceOf(UserCodeError);
    },
  );

  it('an exception in the partitioner fails the job with the user stack', async () => {
    function pickTenant(): number {
      throw new Error('no tenant');
    }
    const job = where(2, (env) => env.fromElements(1).partitionCustom(pickTenant, (x) => x));
    const error = await job.then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error?.message).toMatch(
      /partitionCustom\(\) before Where in Collection Source \(1\/1\): user function threw Error: no tenant/,
    );
    expect(error?.stack).toContain('pickTenant');
  });

  it('needs functions', () => {
    const stream = localEnv().fromElements(1);
    expect(() => stream.partitionCustom(undefined as never, (x) => x)).toThrow(
      /partitionCustom\(\) needs a partitioner function/,
    );
  });
});
