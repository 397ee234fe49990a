// The plan the client describes is the type the JobManager parses: a described graph survives
// JSON unchanged, and a plan that is not one is refused with the field at fault named.
import { StreamExecutionEnvironment } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { buildJobGraph, describeJobGraph } from '../src/graph/job-graph.js';
import type { JobPlan } from '../src/graph/job-plan.js';
import { jsonPlanOf, parseJobPlan, slotsRequired } from '../src/graph/job-plan.js';

function describedPlan(): JobPlan {
  const env = StreamExecutionEnvironment.getExecutionEnvironment();
  env.setParallelism(3);
  env
    .fromElements(['a', 1] as [string, number], ['b', 2] as [string, number])
    .uid('elements')
    .keyBy((e) => e[0])
    .reduce((a, b) => [a[0], a[1] + b[1]] as [string, number])
    .uid('sum')
    .rebalance()
    .map((e) => e[1])
    .setParallelism(2)
    .uid('values')
    .print()
    .uid('print');
  return describeJobGraph(buildJobGraph(env.getPipeline('plan')));
}

describe('the job plan', () => {
  it('a described graph parses back to the same plan', () => {
    const plan = describedPlan();
    const parsed = parseJobPlan(JSON.stringify(plan));
    expect(parsed).toEqual(plan);
    expect(parsed.vertices.length).toBeGreaterThanOrEqual(3);
    expect(parsed.vertices.flatMap((v) => v.inputs.map((e) => e.partitioner))).toContain('hash');
    expect(slotsRequired(parsed)).toBe(3);
  });

  it('unknown fields are dropped', () => {
    const plan = describedPlan();
    const extra = { ...plan, evil: true, vertices: plan.vertices.map((v) => ({ ...v, x: 1 })) };
    expect(parseJobPlan(JSON.stringify(extra))).toEqual(plan);
  });

  const mutate = (f: (p: any) => void): string => {
    const p = JSON.parse(JSON.stringify(describedPlan()));
    f(p);
    return JSON.stringify(p);
  };

  it.each([
    ['not JSON', '{', /plan_json is not JSON/],
    ['no jobName', mutate((p) => delete p.jobName), /string jobName/],
    ['no vertices', mutate((p) => (p.vertices = [])), /non-empty vertices/],
    [
      'zero parallelism',
      mutate((p) => (p.vertices[0].parallelism = 0)),
      /vertices\[0\]\.parallelism/,
    ],
    [
      'parallelism above the maximum',
      mutate((p) => (p.vertices.find((v: any) => v.parallelism > 1).maxParallelism = 1)),
      /parallelism: \d+ is above maxParallelism 1/,
    ],
    [
      'a duplicate vertex id',
      mutate((p) => (p.vertices[1].id = p.vertices[0].id)),
      /id: \d+ is not unique/,
    ],
    [
      'a duplicate uid',
      mutate((p) => (p.vertices[1].operators[0].uid = p.vertices[0].operators[0].uid)),
      /uid: "elements" is not unique/,
    ],
    [
      'no operators',
      mutate((p) => (p.vertices[0].operators = [])),
      /operators: expected at least one/,
    ],
    [
      'an unknown partitioner',
      mutate((p) => (p.vertices[1].inputs[0].partitioner = 'teleport')),
      /inputs\[0\]\.partitioner: unknown partitioner "teleport"/,
    ],
    [
      'an input from nowhere',
      mutate((p) => (p.vertices[1].inputs[0].from = 9999)),
      /inputs\[0\]\.from: 9999 is not an operator of another vertex/,
    ],
    [
      'keyed not a boolean',
      mutate((p) => (p.vertices[0].operators[0].keyed = 'yes')),
      /operators\[0\]\.keyed: expected a boolean/,
    ],
  ])('%s is refused', (_what, json, message) => {
    expect(() => parseJobPlan(json)).toThrow(message);
  });
});

describe("the plan in Flink's JSON shape", () => {
  it('a node per vertex; inputs name the producing vertex and Flink’s ship strategy', () => {
    const plan = describedPlan();
    const json = jsonPlanOf(plan, 'f'.repeat(32));
    expect(json.jid).toBe('f'.repeat(32));
    expect(json.type).toBe('STREAMING');
    // The print sink keeps the default parallelism 3: a rebalance from the map, as in Flink.
    expect(json.nodes.map((n) => [n.parallelism, n.inputs?.map((i) => i.ship_strategy)])).toEqual([
      [1, undefined],
      [3, ['HASH']],
      [2, ['REBALANCE']],
      [3, ['REBALANCE']],
    ]);
    const [source, sum, values] = json.nodes;
    expect(source).toEqual({
      id: String(plan.vertices[0]!.id),
      parallelism: 1,
      operator: 'Collection Source',
      operator_strategy: '',
      description: 'Collection Source',
      optimizer_properties: {},
    });
    expect(sum!.inputs).toEqual([
      { num: 0, id: source!.id, ship_strategy: 'HASH', exchange: 'pipelined_bounded' },
    ]);
    expect(values!.inputs![0]!.id).toBe(sum!.id);
    expect(values!.description).toBe(plan.vertices[2]!.operators.map((o) => o.name).join(' -> '));
  });
});
