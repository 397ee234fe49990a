/**
 * The job plan: the job graph as the client describes it ({@link describeJobGraph}), submitted as
 * JSON and checked by the JobManager with {@link parseJobPlan} before anything uses it. One type
 * on both sides: a field the JobManager reads is a field the client writes.
 */
import type { PartitionerKind } from '@nimble/api';

/** The job graph as the client built it; its digest is what every worker must rebuild. */
export interface JobPlan {
  readonly jobName: string;
  readonly vertices: readonly PlanVertex[];
}

/** One vertex: a chain of operators run by `parallelism` subtasks. */
export interface PlanVertex {
  readonly id: number;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** The chained operators, head first (uid names an operator's state in checkpoints). */
  readonly operators: readonly PlanOperator[];
  readonly inputs: readonly PlanInput[];
}

export interface PlanOperator {
  readonly id: number;
  readonly name: string;
  readonly uid: string;
  readonly keyed: boolean;
}

/** An edge into a vertex. */
export interface PlanInput {
  readonly id: string;
  /** The id of the producing operator (in another vertex). */
  readonly from: number;
  readonly partitioner: PartitionerKind;
  readonly sideOutput: string | null;
  /** 0, or 1 for the second input of a two-input operator. */
  readonly input: number;
}

const PARTITIONERS: ReadonlySet<string> = new Set<PartitionerKind>([
  'forward',
  'rebalance',
  'rescale',
  'broadcast',
  'hash',
  'global',
  'shuffle',
  'custom',
]);

/** A plan that is not one: the message names the field at fault. */
export class JobPlanError extends Error {
  override name = 'JobPlanError';
}

type Fields = Record<string, unknown>;

function object(v: unknown, where: string): Fields {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    throw new JobPlanError(`${where}: expected an object`);
  }
  return v as Fields;
}
function string(o: Fields, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new JobPlanError(`${where}.${key}: expected a string`);
  return v;
}
function integer(o: Fields, key: string, where: string, min: number): number {
  const v = o[key];
  if (!Number.isInteger(v) || (v as number) < min) {
    throw new JobPlanError(`${where}.${key}: expected an integer >= ${min}`);
  }
  return v as number;
}
function array(o: Fields, key: string, where: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) throw new JobPlanError(`${where}.${key}: expected an array`);
  return v;
}

/**
 * Parses and checks a submitted plan: every field of {@link JobPlan} present with its type,
 * vertex ids and operator uids unique, inputs from operators of other vertices, known partitioners,
 * parallelism within the maximum parallelism. Unknown fields are dropped.
 */
export function parseJobPlan(json: string): JobPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new JobPlanError(`plan_json is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as Fields)['jobName'] !== 'string') {
    throw new JobPlanError('plan_json: expected an object with a string jobName');
  }
  const plan = raw as Fields;
  const rawVertices = array(plan, 'vertices', 'plan_json');
  if (rawVertices.length === 0)
    throw new JobPlanError('plan_json: expected a non-empty vertices array');
  const uids = new Set<string>();
  const vertices = rawVertices.map((rv, i): PlanVertex => {
    const where = `plan_json.vertices[${i}]`;
    const v = object(rv, where);
    const parallelism = integer(v, 'parallelism', where, 1);
    const maxParallelism = integer(v, 'maxParallelism', where, 1);
    if (parallelism > maxParallelism) {
      throw new JobPlanError(
        `${where}.parallelism: ${parallelism} is above maxParallelism ${maxParallelism}`,
      );
    }
    const operators = array(v, 'operators', where).map((ro, j): PlanOperator => {
      const at = `${where}.operators[${j}]`;
      const o = object(ro, at);
      const uid = string(o, 'uid', at);
      if (uids.has(uid)) throw new JobPlanError(`${at}.uid: ${JSON.stringify(uid)} is not unique`);
      uids.add(uid);
      if (typeof o['keyed'] !== 'boolean')
        throw new JobPlanError(`${at}.keyed: expected a boolean`);
      return { id: integer(o, 'id', at, 0), name: string(o, 'name', at), uid, keyed: o['keyed'] };
    });
    if (operators.length === 0) throw new JobPlanError(`${where}.operators: expected at least one`);
    const inputs = array(v, 'inputs', where).map((ri, j): PlanInput => {
      const at = `${where}.inputs[${j}]`;
      const e = object(ri, at);
      const partitioner = string(e, 'partitioner', at);
      if (!PARTITIONERS.has(partitioner)) {
        throw new JobPlanError(
          `${at}.partitioner: unknown partitioner ${JSON.stringify(partitioner)}`,
        );
      }
      const sideOutput = e['sideOutput'];
      if (sideOutput !== null && typeof sideOutput !== 'string') {
        throw new JobPlanError(`${at}.sideOutput: expected a string or null`);
      }
      const input = integer(e, 'input', at, 0);
      if (input > 1) throw new JobPlanError(`${at}.input: expected 0 or 1`);
      return {
        id: string(e, 'id', at),
        from: integer(e, 'from', at, 0),
        partitioner: partitioner as PartitionerKind,
        sideOutput,
        input,
      };
    });
    return {
      id: integer(v, 'id', where, 0),
      name: string(v, 'name', where),
      parallelism,
      maxParallelism,
      operators,
      inputs,
    };
  });
  const ids = new Set<number>();
  const vertexOfOperator = new Map<number, number>();
  for (const [i, v] of vertices.entries()) {
    if (ids.has(v.id)) throw new JobPlanError(`plan_json.vertices[${i}].id: ${v.id} is not unique`);
    ids.add(v.id);
    for (const o of v.operators) vertexOfOperator.set(o.id, v.id);
  }
  for (const [i, v] of vertices.entries()) {
    for (const [j, e] of v.inputs.entries()) {
      const from = vertexOfOperator.get(e.from);
      if (from === undefined || from === v.id) {
        throw new JobPlanError(
          `plan_json.vertices[${i}].inputs[${j}].from: ${e.from} is not an operator of another vertex`,
        );
      }
    }
  }
  return { jobName: plan['jobName'] as string, vertices };
}

/** Slots a job needs: slot sharing puts subtask i of every vertex in slot i. */
export function slotsRequired(plan: JobPlan): number {
  return Math.max(...plan.vertices.map((v) => v.parallelism));
}

/** Flink's names of the partitioners, as its JSON plan gives them (`ship_strategy`). */
const SHIP_STRATEGIES: Record<PartitionerKind, string> = {
  forward: 'FORWARD',
  rebalance: 'REBALANCE',
  rescale: 'RESCALE',
  broadcast: 'BROADCAST',
  hash: 'HASH',
  global: 'GLOBAL',
  shuffle: 'SHUFFLE',
  custom: 'CUSTOM',
};

/** One input of a node of the JSON plan. */
export interface JsonPlanInput {
  readonly num: number;
  readonly id: string;
  readonly ship_strategy: string;
  readonly exchange: string;
  readonly side_output?: string;
}

/** One node (vertex) of the JSON plan. */
export interface JsonPlanNode {
  readonly id: string;
  readonly parallelism: number;
  readonly operator: string;
  readonly operator_strategy: string;
  readonly description: string;
  readonly inputs?: readonly JsonPlanInput[];
  readonly optimizer_properties: Record<string, never>;
}

/** The plan in Flink's JSON shape (JsonPlanGenerator): what `/jobs/:id/plan` and `info` show. */
export interface JsonPlan {
  readonly jid: string;
  readonly name: string;
  readonly type: 'STREAMING';
  readonly nodes: readonly JsonPlanNode[];
}

/**
 * The plan as Flink's JSON plan: one node per vertex (its chained operators in the
 * description), each input naming the producing vertex and the partitioner. As in Flink, a
 * source has no `inputs` field.
 */
export function jsonPlanOf(plan: JobPlan, jobId: string): JsonPlan {
  const vertexOfOperator = new Map<number, number>();
  for (const v of plan.vertices) for (const o of v.operators) vertexOfOperator.set(o.id, v.id);
  return {
    jid: jobId,
    name: plan.jobName,
    type: 'STREAMING',
    nodes: plan.vertices.map((v) => {
      const node: JsonPlanNode = {
        id: String(v.id),
        parallelism: v.parallelism,
        operator: v.name,
        operator_strategy: '',
        description: v.operators.map((o) => o.name).join(' -> '),
        optimizer_properties: {},
      };
      if (v.inputs.length === 0) return node;
      return {
        ...node,
        inputs: v.inputs.map((input, num) => ({
          num,
          id: String(vertexOfOperator.get(input.from) ?? input.from),
          ship_strategy: SHIP_STRATEGIES[input.partitioner],
          exchange: 'pipelined_bounded',
          ...(input.sideOutput === null ? {} : { side_output: input.sideOutput }),
        })),
      };
    }),
  };
}
