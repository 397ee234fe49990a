/**
 * What starting a project of one's own costs, step by step, as test/project-template.test.ts
 * runs it: pack the packages, create-nimble from its tarball, npm install (the Nimble packages
 * from the tarballs, the rest from the registry), tsc, the project's test, a nimble local from
 * the installation, and npm run submit of the job to it. Also writeProject alone.
 *
 *   pnpm bench:project-template
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeProject } from '../packages/create-nimble/src/index.js';
import type { Outcome, Timings } from '../test/fixtures/template-project.js';
import {
  exec,
  installTemplateProject,
  startProjectCluster,
  timed,
  userEnv,
} from '../test/fixtures/template-project.js';

function check(what: string, outcome: Outcome): void {
  if (outcome.code !== 0)
    throw new Error(`${what} exited with ${outcome.code}:\n${outcome.stdout}${outcome.stderr}`);
}

const work = mkdtempSync(join(tmpdir(), 'nimble-project-template-bench-'));
const timings: Timings = {};
try {
  console.log(`load average ${loadavg()[0]!.toFixed(1)}`);
  const writes = 20;
  const started = performance.now();
  for (let i = 0; i < writes; i++) writeProject(join(work, 'written', `p${i}`));
  const writeMs = (performance.now() - started) / writes;

  const project = await installTemplateProject(work, timings);
  check(
    'tsc',
    await timed(timings, 'tsc --noEmit', () => exec('npx', ['tsc', '--noEmit'], project.dir)),
  );
  check('npm test', await timed(timings, 'npm test', () => exec('npm', ['test'], project.dir)));
  const cluster = await timed(timings, 'nimble local (1 TaskManager) start', () =>
    startProjectCluster(project.dir),
  );
  try {
    check(
      'npm run submit',
      await timed(timings, 'npm run submit (to FINISHED)', () =>
        exec(
          'npm',
          ['run', 'submit'],
          project.dir,
          userEnv({ NIMBLE_PROPERTIES: `jobmanager.rpc.port: ${cluster.port}` }),
        ),
      ),
    );
  } finally {
    await cluster.stop();
  }
  console.log(`${'writeProject (mean of 20)'.padEnd(36)} ${writeMs.toFixed(1).padStart(8)} ms`);
  for (const [step, ms] of Object.entries(timings))
    console.log(`${step.padEnd(36)} ${String(ms).padStart(8)} ms`);
  const total = Object.values(timings).reduce((a, b) => a + b, 0);
  console.log(`${'total (without writeProject)'.padEnd(36)} ${String(total).padStart(8)} ms`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
