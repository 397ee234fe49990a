import { installPipelineExecutor, StreamExecutionEnvironment } from '@nimble/api';
import { LocalExecutor } from '@nimble/runtime';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Row } from './fixtures/spend-pipeline.js';
import { spendPipeline } from './fixtures/spend-pipeline.js';

const jobModule = fileURLToPath(new URL('./fixtures/spend-job.ts', import.meta.url));
const sorted = (rows: Row[]) => rows.map((r) => JSON.stringify(r)).sort();

async function inThread(parallelism: number, backend: 'hashmap' | 'level'): Promise<Row[]> {
  installPipelineExecutor(new LocalExecutor({ threads: false }));
  const env = StreamExecutionEnvironment.getExecutionEnvironment({
    'parallelism.default': parallelism,
    'state.backend.type': backend,
  });
  return spendPipeline(env, 20_000, 300).executeAndCollect();
}

async function onWorkers(parallelism: number, backend: 'hashmap' | 'level'): Promise<Row[]> {
  process.env['FIXTURE_PARALLELISM'] = String(parallelism);
  process.env['FIXTURE_BACKEND'] = backend;
  installPipelineExecutor(new LocalExecutor({ threads: true, jobModule }));
  // A fresh module instance per run: the job runs at import.
  const mod = (await import(`${jobModule}?run=${parallelism}-${backend}`)) as { result: Row[] };
  return mod.result;
}

describe('parallel runs equal parallelism 1', () => {
  it('the 5-minute spend job gives the same windows at p=1, p=3 and on worker threads, on both backends', async () => {
    const reference = await inThread(1, 'hashmap');
    // 20,000 events at 50 ms = ~16.7 minutes of event time: 4 windows per active user.
    expect(reference.length).toBeGreaterThan(900);
    expect(new Set(reference.map((r) => r[0])).size).toBe(300);
    const expected = sorted(reference);
    expect(sorted(await inThread(3, 'hashmap'))).toEqual(expected);
    expect(sorted(await inThread(1, 'level'))).toEqual(expected);
    expect(sorted(await inThread(3, 'level'))).toEqual(expected);
    expect(sorted(await onWorkers(2, 'hashmap'))).toEqual(expected);
    expect(sorted(await onWorkers(2, 'level'))).toEqual(expected);
  });
});

describe('job modules on worker threads', () => {
  it('a module that does not execute its job when loaded in a worker gets a clear error', async () => {
    const module = fileURLToPath(new URL('./fixtures/main-only-job.ts', import.meta.url));
    installPipelineExecutor(new LocalExecutor({ threads: true, jobModule: module }));
    await expect(import(module)).rejects.toThrow(
      /finished loading in slot \d's worker without calling execute\(\)/,
    );
  });
});
