/**
 * A job's resource requirements (Flink's JobResourceRequirements of the adaptive scheduler): per
 * vertex, the bounds of its parallelism. `PUT /jobs/:id/resource-requirements` sets them, `GET`
 * shows them, `nimble rescale -p N` sets every upper bound to N. See docs/scaling.md.
 */
import type { ClusterConfiguration, JobPlan, PlanVertex } from '@nimble/runtime';
import { NimbleError } from '@nimble/runtime';
import { failedPrecondition, invalidArgument } from '@nimble/proto';
import type { JobStatus } from './job-status.js';
import { isTerminal } from './job-status.js';

/** The parallelism bounds of one vertex. */
export interface VertexRequirements {
  readonly lowerBound: number;
  readonly upperBound: number;
}

/** Requirements by vertex id. */
export type ResourceRequirements = ReadonlyMap<number, VertexRequirements>;

/** Flink's REST body: `{ "<vertexId>": { "parallelism": { "lowerBound": n, "upperBound": m } } }`. */
export type ResourceRequirementsBody = Record<
  string,
  { parallelism: { lowerBound: number; upperBound: number } }
>;

/**
 * A rescale that cannot be done. `reason` says what the caller did wrong: `invalid` (a bad
 * request: 400, INVALID_ARGUMENT) or `state` (the job or cluster cannot take it now: 409,
 * FAILED_PRECONDITION).
 */
export class RescaleError extends NimbleError {
  override name = 'RescaleError';
  constructor(
    message: string,
    readonly reason: 'invalid' | 'state',
  ) {
    super(message, 'user');
  }
}

/** The requirements a job starts with: up to its submitted parallelism, or its maximum (reactive). */
export function initialRequirements(plan: JobPlan, reactive: boolean): ResourceRequirements {
  return new Map(
    plan.vertices.map((v) => [
      v.id,
      { lowerBound: 1, upperBound: reactive ? v.maxParallelism : v.parallelism },
    ]),
  );
}

/** The REST body of `requirements`. */
export function requirementsBody(requirements: ResourceRequirements): ResourceRequirementsBody {
  const body: ResourceRequirementsBody = {};
  for (const [id, r] of requirements)
    body[String(id)] = { parallelism: { lowerBound: r.lowerBound, upperBound: r.upperBound } };
  return body;
}

/**
 * Parses and checks a REST body against the job's vertices: as in Flink, every vertex is named,
 * and no other; bounds are integers with 1 <= lowerBound <= upperBound <= maxParallelism.
 */
export function parseRequirementsBody(body: unknown, plan: JobPlan): ResourceRequirements {
  const invalid = (message: string): RescaleError => new RescaleError(message, 'invalid');
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid(
      'Expected a JSON object { "<vertexId>": { "parallelism": { "lowerBound": n, "upperBound": m } } } ' +
        `naming every vertex of the job (${vertexList(plan)})`,
    );
  }
  const byId = new Map(plan.vertices.map((v) => [String(v.id), v]));
  const out = new Map<number, VertexRequirements>();
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    const v = byId.get(key);
    if (!v)
      throw invalid(
        `The job has no vertex ${JSON.stringify(key)}; its vertices: ${vertexList(plan)}`,
      );
    const parallelism = (value as { parallelism?: unknown } | null)?.parallelism as
      Record<string, unknown> | undefined;
    const lower = parallelism?.['lowerBound'];
    const upper = parallelism?.['upperBound'];
    if (!Number.isInteger(lower) || !Number.isInteger(upper)) {
      throw invalid(
        `Vertex ${key}: expected { "parallelism": { "lowerBound": <integer>, "upperBound": <integer> } }`,
      );
    }
    out.set(v.id, checkBounds(v, lower as number, upper as number));
  }
  const missing = plan.vertices.filter((v) => !out.has(v.id));
  if (missing.length > 0) {
    throw invalid(
      `Requirements must name every vertex of the job; missing: ${missing.map((v) => `${v.id} (${v.name})`).join(', ')}`,
    );
  }
  return out;
}

/**
 * `nimble rescale -p N`: every vertex up to N, non-parallel ones (maxParallelism 1) at 1. N above
 * a parallel vertex's maxParallelism is refused, naming the vertex.
 */
export function uniformRequirements(plan: JobPlan, parallelism: number): ResourceRequirements {
  return new Map(
    plan.vertices.map((v) => {
      const p = v.maxParallelism === 1 ? 1 : parallelism;
      return [v.id, checkBounds(v, 1, p)];
    }),
  );
}

function checkBounds(v: PlanVertex, lower: number, upper: number): VertexRequirements {
  const at = `Vertex ${v.id} (${v.name})`;
  if (!Number.isInteger(upper) || upper < 1)
    throw new RescaleError(
      `${at}: the parallelism must be an integer >= 1; got ${upper}`,
      'invalid',
    );
  if (!Number.isInteger(lower) || lower < 1 || lower > upper)
    throw new RescaleError(
      `${at}: lowerBound must be an integer from 1 to upperBound (${upper}); got ${lower}`,
      'invalid',
    );
  if (upper > v.maxParallelism)
    throw new RescaleError(
      `${at}: parallelism ${upper} is above its maxParallelism ${v.maxParallelism}, the number of key ` +
        'groups, which a running job cannot change (pipeline.max-parallelism)',
      'invalid',
    );
  return { lowerBound: lower, upperBound: upper };
}

function vertexList(plan: JobPlan): string {
  return plan.vertices.map((v) => `${v.id} (${v.name})`).join(', ');
}

/** Runs a rescale for a gRPC call: a {@link RescaleError} becomes INVALID_ARGUMENT or FAILED_PRECONDITION. */
export async function rescaleRpc(run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (e instanceof RescaleError)
      throw e.reason === 'invalid' ? invalidArgument(e.message) : failedPrecondition(e.message);
    throw e;
  }
}

/**
 * Reactive mode runs one job per cluster (as Flink's, where it needs application mode): a
 * submission while another job has not ended is refused, naming that job.
 */
export function checkReactiveSubmission(
  config: Pick<ClusterConfiguration, 'schedulerMode'>,
  jobs: Iterable<{ readonly jobId: string; readonly name: string; readonly status: JobStatus }>,
): void {
  if (config.schedulerMode !== 'reactive') return;
  for (const job of jobs) {
    if (isTerminal(job.status)) continue;
    throw failedPrecondition(
      `The cluster runs in reactive mode (scheduler-mode: reactive), which runs one job, and job ` +
        `${job.jobId} (${job.name}) is ${job.status}. Cancel it first, or submit to a cluster ` +
        'without scheduler-mode.',
    );
  }
}
