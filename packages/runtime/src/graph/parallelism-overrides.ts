/**
 * Per-vertex parallelism overrides (Flink's `pipeline.jobvertex-parallelism-overrides`): how the
 * JobManager runs a job at another parallelism than it was submitted with (rescaling, reactive
 * mode) without a new plan from the client. The JobManager applies them to the submitted plan
 * ({@link applyParallelismOverrides}); every worker that rebuilds the job graph from the bundle
 * applies the same overrides (buildJobGraph reads them from the configuration), so the graph
 * digests still match.
 *
 * The chains stay as the submitted parallelism built them: every operator of a vertex takes the
 * vertex's parallelism, and an edge keeps the partitioner it was built with.
 */
import type { ConfigValue } from '@nimble/api';
import type { JobPlan, PlanVertex } from './job-plan.js';

/** The configuration key of the overrides, Flink's name: `<vertexId>:<parallelism>,...`. */
export const PARALLELISM_OVERRIDES_KEY = 'pipeline.jobvertex-parallelism-overrides';

/** Parallelism by vertex id. */
export type ParallelismOverrides = ReadonlyMap<number, number>;

/** An override that cannot apply: the message names the vertex and what is allowed. */
export class ParallelismOverrideError extends Error {
  override name = 'ParallelismOverrideError';
}

/** Parses `<vertexId>:<parallelism>` pairs separated by commas; empty for an unset value. */
export function parseParallelismOverrides(value: ConfigValue | undefined): Map<number, number> {
  const out = new Map<number, number>();
  if (value === undefined || String(value).trim() === '') return out;
  for (const pair of String(value).split(',')) {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(pair);
    if (!m) {
      throw new ParallelismOverrideError(
        `${PARALLELISM_OVERRIDES_KEY}: ${JSON.stringify(pair)} is not <vertexId>:<parallelism>`,
      );
    }
    out.set(Number(m[1]), Number(m[2]));
  }
  return out;
}

/** The configuration value of `overrides`, by vertex id. */
export function formatParallelismOverrides(overrides: ParallelismOverrides): string {
  return [...overrides]
    .sort(([a], [b]) => a - b)
    .map(([id, p]) => `${id}:${p}`)
    .join(',');
}

/**
 * The plan with the parallelism of the overridden vertices replaced. Throws
 * {@link ParallelismOverrideError} for an unknown vertex, a parallelism below 1 or above the
 * vertex's maxParallelism, or vertices joined by a forward edge that would differ.
 */
export function applyParallelismOverrides(plan: JobPlan, overrides: ParallelismOverrides): JobPlan {
  const ids = new Set(plan.vertices.map((v) => v.id));
  for (const id of overrides.keys()) {
    if (!ids.has(id))
      throw new ParallelismOverrideError(
        `${PARALLELISM_OVERRIDES_KEY}: the job has no vertex ${id} (its vertices: ${[...ids].join(', ')})`,
      );
  }
  const vertices = plan.vertices.map((v): PlanVertex => {
    const p = overrides.get(v.id);
    if (p === undefined) return v;
    checkVertexParallelism(v, p);
    return { ...v, parallelism: p };
  });
  const result = { jobName: plan.jobName, vertices };
  checkForwardEdges(result);
  return result;
}

/** Throws unless `p` is a parallelism vertex `v` can run at. */
export function checkVertexParallelism(
  v: Pick<PlanVertex, 'id' | 'name' | 'maxParallelism'>,
  p: number,
): void {
  if (!Number.isInteger(p) || p < 1) {
    throw new ParallelismOverrideError(
      `vertex ${v.id} (${v.name}): parallelism must be an integer >= 1; got ${p}`,
    );
  }
  if (p > v.maxParallelism) {
    throw new ParallelismOverrideError(
      `vertex ${v.id} (${v.name}): parallelism ${p} is above its maxParallelism ${v.maxParallelism}; ` +
        'the maximum parallelism (the number of key groups) cannot change for a running job',
    );
  }
}

/**
 * The parallelism of every vertex when each asks for `wanted(v)`: capped by its maxParallelism
 * (a non-parallel vertex, maxParallelism 1, stays at 1), and equal within each group of vertices
 * joined by forward edges (the lowest of the group), as forward edges need.
 */
export function fitParallelism(
  plan: JobPlan,
  wanted: (v: PlanVertex) => number,
): Map<number, number> {
  const groups = forwardGroups(plan);
  const lowest = new Map<number, number>();
  for (const v of plan.vertices) {
    const p = Math.max(1, Math.min(wanted(v), v.maxParallelism));
    const g = groups.get(v.id)!;
    lowest.set(g, Math.min(lowest.get(g) ?? p, p));
  }
  return new Map(plan.vertices.map((v) => [v.id, lowest.get(groups.get(v.id)!)!]));
}

/** Whether two plans run every vertex at the same parallelism. */
export function sameParallelism(a: JobPlan, b: JobPlan): boolean {
  return a.vertices.every((v, i) => b.vertices[i]?.parallelism === v.parallelism);
}

/** Each vertex's group of vertices joined by forward edges, named by one of its vertex ids. */
function forwardGroups(plan: JobPlan): Map<number, number> {
  const parent = new Map(plan.vertices.map((v) => [v.id, v.id]));
  const find = (id: number): number => {
    let root = id;
    while (parent.get(root) !== root) root = parent.get(root)!;
    parent.set(id, root);
    return root;
  };
  const vertexOfOperator = vertexOfOperatorIn(plan);
  for (const v of plan.vertices) {
    for (const input of v.inputs) {
      const from = vertexOfOperator.get(input.from);
      if (input.partitioner === 'forward' && from !== undefined) parent.set(find(from), find(v.id));
    }
  }
  return new Map(plan.vertices.map((v) => [v.id, find(v.id)]));
}

function checkForwardEdges(plan: JobPlan): void {
  const vertexOfOperator = vertexOfOperatorIn(plan);
  const byId = new Map(plan.vertices.map((v) => [v.id, v]));
  for (const v of plan.vertices) {
    for (const input of v.inputs) {
      const from = byId.get(vertexOfOperator.get(input.from) ?? -1);
      if (input.partitioner === 'forward' && from && from.parallelism !== v.parallelism) {
        throw new ParallelismOverrideError(
          `vertices ${from.id} (${from.name}) and ${v.id} (${v.name}) are joined by a forward edge ` +
            `and need the same parallelism; got ${from.parallelism} and ${v.parallelism}`,
        );
      }
    }
  }
}

function vertexOfOperatorIn(plan: JobPlan): Map<number, number> {
  const out = new Map<number, number>();
  for (const v of plan.vertices) for (const o of v.operators) out.set(o.id, v.id);
  return out;
}
