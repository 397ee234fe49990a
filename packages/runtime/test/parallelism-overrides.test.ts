// Rescaling runs a job at per-vertex parallelism overrides: the JobManager applies them to the
// submitted plan, every worker to the graph it rebuilds, and both must describe the same graph.
import { StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { buildJobGraph, describeJobGraph } from '../src/graph/job-graph.js';
import type { JobPlan } from '../src/graph/job-plan.js';
import { parseJobPlan, slotsRequired } from '../src/graph/job-plan.js';
import {
  applyParallelismOverrides,
  fitParallelism,
  formatParallelismOverrides,
  PARALLELISM_OVERRIDES_KEY,
  parseParallelismOverrides,
} from '../src/graph/parallelism-overrides.js';
import { parseExecutionConfiguration } from '../src/config.js';

type Entry = [string, number];

/** source -> map (chained) -> forward to an unchained map -> keyBy sum -> custom -> print. */
function pipeline(configuration: Record<string, string> = {}) {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(2);
  env
    .fromElements<Entry>(['a', 1], ['b', 2])
    .uid('elements')
    .setMaxParallelism(1)
    .map((e) => e)
    .uid('copy')
    .setParallelism(1)
    .map((e) => e)
    .uid('unchained')
    .setParallelism(1)
    .disableChaining()
    .keyBy((e) => e[0])
    .reduce((a, b): Entry => [a[0], a[1] + b[1]])
    .uid('sum')
    .setMaxParallelism(4)
    .partitionCustom(
      (k: string, n) => k.length % n,
      (e) => e[0],
    )
    .map((e) => e[1])
    .uid('values')
    .setMaxParallelism(16)
    .print()
    .uid('print');
  const p = env.getPipeline('overrides');
  return { ...p, configuration: { ...p.configuration, ...configuration } };
}

const plan = (): JobPlan => describeJobGraph(buildJobGraph(pipeline()));
const vertexOf = (p: JobPlan, uid: string) =>
  p.vertices.find((v) => v.operators.some((o) => o.uid === uid))!;

describe('parallelism overrides', () => {
  it('parse and format as Flink writes the key', () => {
    expect(parseParallelismOverrides(' 3:4, 1:2 ')).toEqual(
      new Map([
        [3, 4],
        [1, 2],
      ]),
    );
    expect(
      formatParallelismOverrides(
        new Map([
          [3, 4],
          [1, 2],
        ]),
      ),
    ).toBe('1:2,3:4');
    expect(parseParallelismOverrides('')).toEqual(new Map());
    expect(() => parseParallelismOverrides('1=2')).toThrow(
      `${PARALLELISM_OVERRIDES_KEY}: "1=2" is not <vertexId>:<parallelism>`,
    );
    expect(
      parseExecutionConfiguration({ [PARALLELISM_OVERRIDES_KEY]: '1:2' }).parallelismOverrides,
    ).toEqual(new Map([[1, 2]]));
  });

  it('the rebuilt graph describes exactly the overridden plan, so digests match', () => {
    const submitted = plan();
    const overrides = fitParallelism(submitted, () => 3);
    const config = { [PARALLELISM_OVERRIDES_KEY]: formatParallelismOverrides(overrides) };
    const graph = buildJobGraph(pipeline(config));
    const expected = applyParallelismOverrides(submitted, overrides);
    expect(JSON.stringify(describeJobGraph(graph))).toBe(JSON.stringify(expected));
    // What the JobManager parses is what it overrides: the same JSON again.
    expect(
      JSON.stringify(applyParallelismOverrides(parseJobPlan(JSON.stringify(submitted)), overrides)),
    ).toBe(JSON.stringify(expected));
    // Every operator of a vertex runs at the vertex's parallelism.
    for (const v of graph.vertices)
      for (const n of v.nodes) expect(n.parallelism).toBe(v.parallelism);
    expect(graph.slotsRequired).toBe(3);
  });

  it('caps by maxParallelism, keeps forward-joined vertices equal and sources at 1', () => {
    const submitted = plan();
    const fitted = fitParallelism(submitted, () => 8);
    const at = (uid: string) => fitted.get(vertexOf(submitted, uid).id);
    expect(at('sum')).toBe(4); // its maxParallelism
    expect(at('values')).toBe(8);
    // A non-parallel source (maxParallelism 1) stays at 1, and the forward edges after it too.
    expect(vertexOf(submitted, 'elements').maxParallelism).toBe(1);
    expect(at('elements')).toBe(1);
    expect(at('unchained')).toBe(1);
    expect(slotsRequired(applyParallelismOverrides(submitted, fitted))).toBe(8);
  });

  it('a custom partitioner picks among the new number of channels', () => {
    const submitted = plan();
    const values = vertexOf(submitted, 'values');
    const overrides = new Map([[values.id, 5]]);
    const graph = buildJobGraph(
      pipeline({ [PARALLELISM_OVERRIDES_KEY]: formatParallelismOverrides(overrides) }),
    );
    const edge = graph.vertices.find((v) => v.id === values.id)!.inputs[0]!;
    expect(edge.partitioner).toBe('custom');
    expect(edge.keySelector!(['abcdefg', 1])).toBe(7 % 5);
  });

  it('refuses what cannot run, naming the vertex', () => {
    const submitted = plan();
    const sum = vertexOf(submitted, 'sum');
    const unchained = vertexOf(submitted, 'unchained');
    expect(() => applyParallelismOverrides(submitted, new Map([[999, 2]]))).toThrow(
      /the job has no vertex 999/,
    );
    expect(() => applyParallelismOverrides(submitted, new Map([[sum.id, 0]]))).toThrow(
      `vertex ${sum.id} (${sum.name}): parallelism must be an integer >= 1; got 0`,
    );
    expect(() => applyParallelismOverrides(submitted, new Map([[sum.id, 5]]))).toThrow(
      `vertex ${sum.id} (${sum.name}): parallelism 5 is above its maxParallelism 4`,
    );
    expect(() => applyParallelismOverrides(submitted, new Map([[unchained.id, 2]]))).toThrow(
      /are joined by a forward edge and need the same parallelism; got 1 and 2/,
    );
    // A worker given overrides the plan refuses fails its graph build with the same message.
    expect(() => buildJobGraph(pipeline({ [PARALLELISM_OVERRIDES_KEY]: `${sum.id}:5` }))).toThrow(
      /parallelism 5 is above its maxParallelism 4/,
    );
  });
});
