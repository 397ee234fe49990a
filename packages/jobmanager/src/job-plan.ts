/** The job graph as the client built it (describeJobGraph), checked before the JobManager uses it. */
export interface JobPlan {
  readonly jobName: string;
  readonly vertices: readonly PlanVertex[];
}

export interface PlanVertex {
  readonly id: number;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  readonly inputs: readonly { readonly from: number; readonly partitioner: string }[];
  /** The chained operators, head first (uid names an operator's state in checkpoints). */
  readonly operators?: readonly {
    readonly uid: string;
    readonly name: string;
    readonly keyed: boolean;
  }[];
}

/** Parses and checks a submitted plan; the error names what is wrong. */
export function parsePlan(json: string): JobPlan {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch (e) {
    throw new Error(`plan_json is not JSON: ${(e as Error).message}`);
  }
  const plan = raw as { jobName?: unknown; vertices?: unknown };
  if (typeof plan !== 'object' || plan === null || typeof plan.jobName !== 'string') {
    throw new Error('plan_json: expected an object with a string jobName');
  }
  if (!Array.isArray(plan.vertices) || plan.vertices.length === 0) {
    throw new Error('plan_json: expected a non-empty vertices array');
  }
  for (const [i, v] of (plan.vertices as Record<string, unknown>[]).entries()) {
    const where = `plan_json.vertices[${i}]`;
    if (typeof v !== 'object' || v === null) throw new Error(`${where}: expected an object`);
    if (!Number.isInteger(v['id'])) throw new Error(`${where}.id: expected an integer`);
    if (typeof v['name'] !== 'string') throw new Error(`${where}.name: expected a string`);
    for (const f of ['parallelism', 'maxParallelism']) {
      const n = v[f];
      if (!Number.isInteger(n) || (n as number) < 1)
        throw new Error(`${where}.${f}: expected an integer >= 1`);
    }
    if (!Array.isArray(v['inputs'])) throw new Error(`${where}.inputs: expected an array`);
  }
  return raw as JobPlan;
}

/** Slots a job needs: slot sharing puts subtask i of every vertex in slot i. */
export function slotsRequired(plan: JobPlan): number {
  return Math.max(...plan.vertices.map((v) => v.parallelism));
}
