// The REST body of a job's resource requirements (Flink's adaptive-scheduler shape), checked
// against the job's vertices before anything rescales; and reactive mode's one-job rule.
import type { JobPlan } from '@nimble/runtime';
import { describe, expect, it } from 'vitest';
import {
  checkReactiveSubmission,
  initialRequirements,
  parseRequirementsBody,
  requirementsBody,
  RescaleError,
  uniformRequirements,
} from '../src/resource-requirements.js';

const plan: JobPlan = {
  jobName: 'j',
  vertices: [
    { id: 1, name: 'source', parallelism: 2, maxParallelism: 128, operators: [], inputs: [] },
    { id: 4, name: 'count', parallelism: 2, maxParallelism: 8, operators: [], inputs: [] },
    { id: 7, name: 'all', parallelism: 1, maxParallelism: 1, operators: [], inputs: [] },
  ],
};
const bounds = (lowerBound: number, upperBound: number) => ({
  parallelism: { lowerBound, upperBound },
});

function refusal(body: unknown): [string, string] {
  try {
    parseRequirementsBody(body, plan);
  } catch (e) {
    if (e instanceof RescaleError) return [e.reason, e.message];
    throw e;
  }
  throw new Error('accepted');
}

describe('resource requirements', () => {
  it('start at the submitted parallelism, or the maximum in reactive mode, in Flink’s shape', () => {
    expect(requirementsBody(initialRequirements(plan, false))).toEqual({
      1: bounds(1, 2),
      4: bounds(1, 2),
      7: bounds(1, 1),
    });
    expect(requirementsBody(initialRequirements(plan, true))).toEqual({
      1: bounds(1, 128),
      4: bounds(1, 8),
      7: bounds(1, 1),
    });
  });

  it('parse a body that names every vertex within its bounds', () => {
    const body = { 1: bounds(1, 4), 4: bounds(2, 4), 7: bounds(1, 1) };
    expect(requirementsBody(parseRequirementsBody(body, plan))).toEqual(body);
  });

  it('refuse a bad body, naming the vertex and what is allowed', () => {
    expect(refusal([])[1]).toMatch(
      /^Expected a JSON object .* naming every vertex of the job \(1 \(source\), 4 \(count\), 7 \(all\)\)$/,
    );
    expect(refusal({ 1: bounds(1, 1), 4: bounds(1, 1), 7: bounds(1, 1), 9: bounds(1, 1) })).toEqual(
      ['invalid', 'The job has no vertex "9"; its vertices: 1 (source), 4 (count), 7 (all)'],
    );
    expect(refusal({ 1: bounds(1, 1) })).toEqual([
      'invalid',
      'Requirements must name every vertex of the job; missing: 4 (count), 7 (all)',
    ]);
    expect(refusal({ 1: { parallelism: { upperBound: '2' } } })[1]).toBe(
      'Vertex 1: expected { "parallelism": { "lowerBound": <integer>, "upperBound": <integer> } }',
    );
    expect(refusal({ 1: bounds(3, 2), 4: bounds(1, 1), 7: bounds(1, 1) })[1]).toBe(
      'Vertex 1 (source): lowerBound must be an integer from 1 to upperBound (2); got 3',
    );
    expect(refusal({ 1: bounds(1, 1), 4: bounds(1, 9), 7: bounds(1, 1) })[1]).toMatch(
      /^Vertex 4 \(count\): parallelism 9 is above its maxParallelism 8, the number of key groups/,
    );
  });

  it('nimble rescale -p N: every vertex at N, non-parallel ones at 1, N checked', () => {
    expect(requirementsBody(uniformRequirements(plan, 4))).toEqual({
      1: bounds(1, 4),
      4: bounds(1, 4),
      7: bounds(1, 1),
    });
    expect(() => uniformRequirements(plan, 0)).toThrow(
      'Vertex 1 (source): the parallelism must be an integer >= 1; got 0',
    );
    expect(() => uniformRequirements(plan, 16)).toThrow(
      /^Vertex 4 \(count\): parallelism 16 is above its maxParallelism 8/,
    );
  });

  it('reactive mode refuses a second job while one has not ended', () => {
    const running = { jobId: 'abc', name: 'spend', status: 'RUNNING' as const };
    const ended = { jobId: 'old', name: 'old', status: 'CANCELED' as const };
    expect(() => checkReactiveSubmission({ schedulerMode: undefined }, [running])).not.toThrow();
    expect(() => checkReactiveSubmission({ schedulerMode: 'reactive' }, [ended])).not.toThrow();
    expect(() => checkReactiveSubmission({ schedulerMode: 'reactive' }, [ended, running])).toThrow(
      'The cluster runs in reactive mode (scheduler-mode: reactive), which runs one job, and job abc (spend) is RUNNING.',
    );
  });
});
