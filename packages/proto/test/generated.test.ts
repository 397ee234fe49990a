import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { nimbleServices } from '../src/index.js';

it('the committed generated types match proto/ (pnpm --filter @nimble/proto generate)', () => {
  const script = fileURLToPath(new URL('../scripts/compile-proto.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const run = spawnSync(tsx, [script, '--check'], { encoding: 'utf8' });
  expect(run.stderr).toBe('');
  expect(run.status).toBe(0);
});

it('loads every service of the contract', () => {
  const s = nimbleServices();
  expect(Object.keys(s.Dispatcher.service).sort()).toEqual([
    'CancelJob',
    'DisposeSavepoint',
    'GetClusterOverview',
    'GetJob',
    'ListJobs',
    'QueryState',
    'RescaleJob',
    'SubmitJob',
    'TriggerCheckpoint',
    'TriggerSavepoint',
    'WatchJob',
  ]);
  expect(Object.keys(s.TaskExecutor.service).sort()).toEqual([
    'AssignSplits',
    'CancelTasks',
    'DeployTasks',
    'GetLog',
    'NotifyCheckpoint',
    'QueryStates',
    'StartTasks',
    'TriggerCheckpoint',
  ]);
  expect(s.Exchange.service['Connect']!.requestStream).toBe(true);
  expect(s.TaskExecutor.service['QueryStates']!.requestStream).toBe(true);
  expect(s.TaskExecutor.service['QueryStates']!.responseStream).toBe(true);
});
