import { DiscardingSink, PrintSink } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { localEnv } from './support/local.js';

/** Runs `build` with stdout and stderr captured; returns their lines, sorted. */
async function run(
  p: number,
  build: (env: ReturnType<typeof localEnv>) => void,
): Promise<{ out: string[]; err: string[] }> {
  let out = '';
  let err = '';
  const env = localEnv(
    { 'parallelism.default': p },
    { stdout: (t) => void (out += t), stderr: (t) => void (err += t) },
  );
  build(env);
  await env.execute();
  const lines = (text: string): string[] =>
    text
      .split('\n')
      .filter((l) => l !== '')
      .sort();
  return { out: lines(out), err: lines(err) };
}

describe('PrintSink (Flink sink-v2 PrintSink)', () => {
  it('prints as print(identifier) does, with the subtask prefix when parallel', async () => {
    const { out, err } = await run(2, (env) => {
      env.fromElements('a', 'b').rebalance().sinkTo(new PrintSink('features'));
    });
    expect(err).toEqual([]);
    expect(out).toHaveLength(2);
    for (const line of out) expect(line).toMatch(/^features:[12]> [ab]$/);
    expect(out.map((l) => l.slice(-1)).sort()).toEqual(['a', 'b']);
  });

  it('writes to stderr with stdErr, without a prefix at parallelism 1', async () => {
    const { out, err } = await run(1, (env) => {
      env.fromElements(1, 2).sinkTo(new PrintSink(undefined, true));
    });
    expect(out).toEqual([]);
    expect(err).toEqual(['1', '2']);
  });

  it('is the print operator: same name as print()', () => {
    const env = localEnv({});
    const sink = env.fromElements(1).sinkTo(new PrintSink('x'));
    expect(sink.transformation.name).toBe('Print to Std. Out');
  });

  it('refuses to be used through its writer', () => {
    expect(() => new PrintSink().createWriter()).toThrow(/attach it with stream.sinkTo/);
  });
});

describe('DiscardingSink', () => {
  it('drops every element, and the job finishes', async () => {
    const { out, err } = await run(2, (env) => {
      env.fromCollection(Array.from({ length: 1000 }, (_, i) => i)).sinkTo(new DiscardingSink());
    });
    expect(out).toEqual([]);
    expect(err).toEqual([]);
  });
});
