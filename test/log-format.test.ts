import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatRecord } from '@nimble/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from './fixtures/cluster.js';
import { nimble, startDaemon, stopDaemon } from './fixtures/cluster.js';

const daemons: Daemon[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) await stopDaemon(d);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function jobManager(args: string[], env: NodeJS.ProcessEnv): Promise<Daemon> {
  const blobs = mkdtempSync(join(tmpdir(), 'nimble-log-format-'));
  dirs.push(blobs);
  const d = await startDaemon(
    [
      'jobmanager',
      ...args,
      '-D',
      'jobmanager.rpc.port=0',
      '-D',
      'rest.port=0',
      '-D',
      `blob.storage.directory=${blobs}`,
    ],
    env,
  );
  daemons.push(d);
  return d;
}

/** The daemon's first log line, once it has written one. */
async function firstLine(d: Daemon): Promise<string> {
  while (!d.stderr().includes('\n')) await new Promise((r) => setTimeout(r, 20));
  return d.stderr().split('\n')[0]!;
}

describe('log format (--log-format, NIMBLE_LOG_FORMAT)', () => {
  it('is JSON lines when stderr is not a terminal', async () => {
    const d = await jobManager([], { NIMBLE_LOG_FORMAT: '' });
    const record = JSON.parse(await firstLine(d)) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, name: 'jobmanager', msg: 'JobManager started' });
  });

  it('--log-format text writes lines for people, colored only when told to', async () => {
    const plain = await jobManager(['--log-format', 'text'], { NO_COLOR: '1' });
    expect(await firstLine(plain)).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}jobmanager {2}JobManager started {2}rpcPort=\d+ restPort=\d+ jobmanager_id=[0-9a-f]+$/,
    );
    const colored = await jobManager(['--log-format', 'text'], { FORCE_COLOR: '1' });
    const esc = '\u001b[';
    const line = await firstLine(colored);
    expect(line.startsWith(`${esc}2m`)).toBe(true);
    expect(line).toContain(
      `${esc}32mINFO ${esc}0m ${esc}36mjobmanager${esc}0m  JobManager started`,
    );
  });

  it('an unknown format is a usage error naming the option', async () => {
    const r = await nimble(['jobmanager', '--log-format', 'xml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'nimble: Configuration error: --log-format: unknown log format "xml"; use one of json, text\n',
    );
    const env = await nimble(['jobmanager'], { NIMBLE_LOG_FORMAT: 'yaml' });
    expect(env.code).not.toBe(0);
    expect(env.stderr).toContain('NIMBLE_LOG_FORMAT: unknown log format "yaml"');
  });
});

describe('formatRecord', () => {
  const time = new Date(2026, 11, 4, 9, 58, 1, 23).getTime();

  it('puts time, level, logger and message first, then the fields, quoting what needs it', () => {
    expect(
      formatRecord({
        level: 40,
        time,
        pid: 1,
        name: 'taskmanager',
        msg: 'TaskManager lost',
        tm_id: '127.0.0.1:42241-c3ca48',
        reason: 'the stream ended',
        slots: [0, 1],
      }),
    ).toBe(
      '09:58:01.023 WARN  taskmanager  TaskManager lost  tm_id=127.0.0.1:42241-c3ca48 ' +
        'reason="the stream ended" slots=[ 0, 1 ]\n',
    );
  });

  it("prints an error's stack on the lines after it", () => {
    expect(
      formatRecord({
        level: 50,
        time,
        name: 'jobmanager',
        msg: 'REST request failed unexpectedly',
        url: '/jobs',
        err: { type: 'Error', message: 'boom', stack: 'Error: boom\n    at f (a.js:1:1)' },
      }),
    ).toBe(
      '09:58:01.023 ERROR jobmanager  REST request failed unexpectedly  url=/jobs\n' +
        '    Error: boom\n        at f (a.js:1:1)\n',
    );
  });
});
