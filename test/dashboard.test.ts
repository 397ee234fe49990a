/**
 * The web dashboard in a real browser (Debian's chromium, driven by playwright-core) against real
 * daemons with a REST token: sign in, the overview, a running job's graph, backpressure from a
 * slow operator, a savepoint and a cancellation from the page. Every page is saved as a
 * screenshot under test-results/dashboard/. Requests that leave loopback are blocked and must
 * not happen: the dashboard works offline.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { bundleJob } from '@nimble/client';
import { nimble, TestCluster } from './fixtures/cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const JOB = `${root}test/fixtures/cluster-jobs/slow-sink-job.ts`;
const FAIL_ONCE = `${root}test/fixtures/cluster-jobs/fail-once-job.ts`;
const SCREENSHOTS = join(root, 'test-results', 'dashboard');
const TOKEN = 'dashboard-test-token-0123456789';

let cluster: TestCluster;
let browser: Browser;
let page: Page;
let dir: string;
const offLoopback: string[] = [];
const pageErrors: string[] = [];

async function rest(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(cluster.restUrl + path, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  return res.json();
}

/** Waits for the page's next refreshes (every 3 s) rather than vitest's default of 1 s. */
function poll<T>(read: () => Promise<T> | T, timeoutMs = 20_000) {
  return expect.poll(read, { timeout: timeoutMs, interval: 200 });
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-dashboard-'));
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  cluster = await TestCluster.start({
    taskManagers: 1,
    slots: 2,
    jm: ['-D', `security.rest.token=${TOKEN}`, '-D', 'metrics.fetcher.update-interval=200'],
    tm: ['-D', 'metrics.fetcher.update-interval=200'],
  });
  if (!existsSync('/usr/bin/chromium'))
    throw new Error(
      "The dashboard test drives Debian's chromium at /usr/bin/chromium: apt-get install chromium (.ci/run does)",
    );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  // Anything but the JobManager on loopback is refused, and remembered to fail the test.
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return route.continue();
    offLoopback.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
  page.on('dialog', (d) => void d.accept());
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
}, 60_000);

afterAll(async () => {
  // Where the page was when the test ended (on a failure, what went wrong).
  if (page) await screenshot('last').catch(() => {});
  await browser?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the web dashboard', () => {
  it('signs in, follows a job through its pages and drives jobs from them', async () => {
    // The page and its files are open; the data is not, so the page asks for the token.
    await page.goto(`${cluster.restUrl}/`);
    await page
      .getByTestId('login')
      .waitFor({ timeout: 10_000 })
      .catch((e: unknown) => {
        throw new Error(`${String(e)}; page errors: ${pageErrors.join('\n')}`);
      });
    await screenshot('login');
    // A wrong token is refused and asked for again.
    await page.locator('input[name=token]').fill(`${TOKEN}x`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByTestId('token-refused').waitFor();
    await page.locator('input[name=token]').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await poll(() => page.getByTestId('taskmanagers').locator('.value').textContent()).toBe('1');
    await poll(() => page.getByTestId('slots-total').locator('.value').textContent()).toBe('2');
    await poll(() => page.getByTestId('running-jobs').textContent()).toBe('No jobs.');
    await screenshot('overview-empty');

    const run = await nimble(
      [
        'run',
        '-d',
        '-m',
        cluster.address,
        '-D',
        `state.savepoints.dir=file://${join(dir, 'savepoints')}`,
        '-D',
        `state.checkpoints.dir=file://${join(dir, 'checkpoints')}`,
        // Checkpointing on, but only on demand from the page within the test's time.
        '-D',
        'execution.checkpointing.interval=1h',
        JOB,
      ],
      { NIMBLE_TOKEN: TOKEN },
    );
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;

    // The page updates by itself: the job appears in the running list without a reload.
    const row = page.locator(`[data-testid=running-jobs] tr[data-job-id="${jobId}"]`);
    await row.waitFor({ timeout: 30_000 });
    await poll(() => row.locator('.state').textContent(), 30_000).toBe('RUNNING');
    await poll(() => page.getByTestId('slots-available').locator('.value').textContent()).toBe('0');
    await screenshot('overview');

    await row.click();
    await page.getByTestId('job-graph').waitFor();
    const job = await rest(`/jobs/${jobId}`);
    const vertexIds = (job.vertices as { id: string }[]).map((v) => v.id);
    expect(vertexIds.length).toBe(2);
    const vertices = page.locator('[data-testid=job-graph] g.vertex');
    expect(await vertices.count()).toBe(2);
    expect(
      await vertices.evaluateAll((els) => els.map((e) => e.getAttribute('data-vertex-id'))),
    ).toEqual(vertexIds);
    const [source, map] = vertexIds;
    expect(await vertices.nth(0).textContent()).toContain('Parallelism: 2');
    const edge = page.locator(`[data-testid=job-graph] g.edge[data-from="${source}"]`);
    expect(await edge.getAttribute('data-to')).toBe(map);
    expect(await edge.textContent()).toBe('HASH');

    // The fast source is held back by the slow map: Flink colors it as backpressured.
    const sourceNode = page.locator(`[data-testid=job-graph] g.vertex[data-vertex-id="${source}"]`);
    await poll(() => sourceNode.getAttribute('data-state'), 60_000).toBe('backpressured');
    // The slow map itself is not held back: it is busy (1 ms of CPU per record).
    const mapNode = page.locator(`[data-testid=job-graph] g.vertex[data-vertex-id="${map}"]`);
    await poll(() => mapNode.getAttribute('data-state'), 30_000).toBe('busy');
    // The throughput chart draws from the counters of successive polls.
    await page.locator('[data-testid=throughput-chart] canvas').waitFor();
    await poll(() =>
      page.locator('[data-testid=throughput-chart] .u-legend').textContent(),
    ).toContain('fast-source out');
    await screenshot('job-graph');

    await page.getByTestId('tab-backpressure').click();
    const level = (vertex: string | undefined) =>
      page
        .locator(`[data-testid=backpressure] h2[data-vertex-id="${vertex}"] .state`)
        .textContent();
    await poll(() => level(source), 30_000).toBe('high');
    expect(await level(map)).toBe('ok');
    // Each subtask row shows its own level too.
    const subtaskLevels = page.locator(
      `[data-testid=backpressure] table[data-vertex-id="${map}"] td .state`,
    );
    expect(await subtaskLevels.allTextContents()).toEqual(['ok', 'ok']);
    await screenshot('job-backpressure');

    await page.getByTestId('tab-watermarks').click();
    await page.getByTestId('watermarks').waitFor();
    await screenshot('job-watermarks');

    await page.getByTestId('tab-configuration').click();
    await poll(() => page.getByTestId('job-config').textContent()).toContain(
      'execution-config.job-parallelism2',
    );
    await screenshot('job-configuration');

    // A savepoint from the page: the page follows the operation to its location.
    await page.getByTestId('tab-checkpoints').click();
    await page.getByTestId('trigger-savepoint').click();
    await poll(() => page.getByTestId('action-result').textContent(), 60_000).toMatch(
      /^Savepoint completed: file:\/\/.*savepoint-/,
    );
    const location = (await page.getByTestId('action-result').textContent())!.replace(
      'Savepoint completed: ',
      '',
    );
    expect(readdirSync(fileURLToPath(location))).toContain('_metadata');
    await poll(
      async () => (await rest(`/jobs/${jobId}/checkpoints`)).latest?.savepoint?.external_path,
    ).toBe(location);
    await poll(() => page.getByTestId('latest-savepoint').textContent()).toContain(location);
    await screenshot('job-checkpoints');

    // A checkpoint on demand: the page follows the trigger to the checkpoint's id.
    await page.getByTestId('trigger-checkpoint').click();
    await poll(() => page.getByTestId('action-result').textContent(), 60_000).toBe(
      'Checkpoint completed: 2',
    );

    // Its details: per operator, then per subtask.
    await page.locator('[data-testid=checkpoint-history] tr[data-checkpoint-id="2"]').click();
    const detailRows = page.locator('[data-testid=checkpoint-details] tbody tr');
    await poll(() => detailRows.count()).toBe(2);
    expect(await detailRows.locator('td:nth-child(3)').allTextContents()).toEqual(['2/2', '2/2']);
    await detailRows.first().click();
    const subtaskStates = page.locator('[data-testid=checkpoint-subtasks] tbody tr .state');
    await poll(() => subtaskStates.allTextContents()).toEqual(['completed', 'completed']);
    await screenshot('job-checkpoint-details');

    await page.getByTestId('cancel-job').click();
    await poll(async () => (await rest(`/jobs/${jobId}`)).state, 30_000).toBe('CANCELED');
    await poll(() => page.locator('[data-testid=job-name] .state').textContent()).toBe('CANCELED');
    await page.getByTestId('tab-exceptions').click();
    await page.getByTestId('exceptions').waitFor();
    await screenshot('job-canceled');

    await page.goto(`${cluster.restUrl}/#/jobs/completed`);
    await page.locator(`[data-testid=completed-jobs] tr[data-job-id="${jobId}"]`).waitFor();
    await screenshot('completed-jobs');

    await page.goto(`${cluster.restUrl}/#/taskmanagers`);
    const tmRow = page.locator('[data-testid=taskmanagers-table] tbody tr');
    await tmRow.first().waitFor();
    expect(await tmRow.count()).toBe(1);
    expect(await tmRow.locator('td').nth(2).textContent()).toBe('2');
    await screenshot('taskmanagers');
    await tmRow.first().click();
    await poll(() => page.getByTestId('tm-slots').locator('.value').textContent()).toBe('2');
    await poll(() => page.getByTestId('tm-free-slots').locator('.value').textContent()).toBe('2');
    await poll(() => page.getByTestId('tm-metrics').textContent()).toContain(
      'Status.TaskSlots.Available2Status.TaskSlots.Total2',
    );
    await screenshot('taskmanager');
    // The TaskManager's own log, which the JobManager fetches from it over gRPC.
    await page.getByTestId('tm-tab-logs').click();
    await poll(() => page.getByTestId('tm-log').textContent()).toContain(
      'registered at the JobManager',
    );
    expect(await page.getByTestId('tm-log').textContent()).toContain('TaskManager started');
    await poll(() => page.getByTestId('tm-log-file').textContent()).toMatch(/^taskmanager\.log · /);
    await screenshot('taskmanager-logs');

    await page.goto(`${cluster.restUrl}/#/jobmanager`);
    await page.getByTestId('jm-config').waitFor();
    expect(await page.getByTestId('jm-config').textContent()).toContain('rest.port');
    // The token is a secret: the configuration page hides it, as Flink's does.
    expect(await page.getByTestId('jm-config').textContent()).not.toContain(TOKEN);
    await page.getByTestId('jm-log').waitFor();
    await screenshot('jobmanager');
    // A job bundle submitted from the page: upload, then run it from the list of bundles.
    const bundlePath = join(dir, 'slow-sink.mjs');
    writeFileSync(bundlePath, await bundleJob(JOB));
    await page.goto(`${cluster.restUrl}/#/submit`);
    await page.getByTestId('bundle-file').setInputFiles(bundlePath);
    await page.getByTestId('upload').click();
    await poll(() => page.getByTestId('action-result').textContent()).toMatch(
      /^Uploaded .*_slow-sink\.mjs$/,
    );
    const jarRow = page.locator('[data-testid=jars] tbody tr');
    await poll(() => jarRow.count()).toBe(1);
    expect(await jarRow.locator('td').first().textContent()).toBe('slow-sink.mjs');
    await screenshot('submit');
    await jarRow.getByRole('button', { name: 'Submit' }).click();
    await page.getByTestId('job-graph').waitFor({ timeout: 60_000 });
    const submitted = /#\/job\/([0-9a-f]{32})$/.exec(page.url())![1]!;
    expect(submitted).not.toBe(jobId);
    await poll(() => page.locator('[data-testid=job-name] .state').textContent(), 30_000).toBe(
      'RUNNING',
    );
    expect(await page.locator('[data-testid=job-name]').textContent()).toContain('slow-sink');
    await screenshot('submitted-job');
    // Stop with a savepoint, to a directory given on the page: the job ends FINISHED.
    const stopDir = `file://${join(dir, 'stop-savepoints')}`;
    await page.getByTestId('savepoint-target').fill(stopDir);
    await page.getByTestId('stop-with-savepoint').click();
    await poll(() => page.getByTestId('action-result').textContent(), 60_000).toMatch(
      new RegExp(`^Stopped with savepoint: ${stopDir}/savepoint-`),
    );
    await poll(async () => (await rest(`/jobs/${submitted}`)).state, 30_000).toBe('FINISHED');
    await poll(() => page.locator('[data-testid=job-name] .state').textContent()).toBe('FINISHED');
    await screenshot('stopped-job');

    // A job whose operator throws: the Exceptions tab shows the error with its stack.
    await nimble(['run', '-m', cluster.address, FAIL_ONCE], { NIMBLE_TOKEN: TOKEN });
    const failing = ((await rest('/jobs/overview')).jobs as { jid: string; name: string }[]).find(
      (j) => j.name === 'fail-once',
    )!;
    await page.goto(`${cluster.restUrl}/#/job/${failing.jid}/exceptions`);
    const stack = page.locator('[data-testid=exceptions] pre').first();
    await poll(() => stack.textContent()).toMatch(
      /^UserCodeError: Process \(\d\/2\): user function threw Error: boom at element 1000\n[^]*\n\s+at /,
    );
    await screenshot('job-exceptions');

    expect(offLoopback).toEqual([]);
  }, 240_000);
});
