/**
 * The dashboard's State tab in a real browser (Debian's chromium, driven by playwright-core)
 * against real daemons with a REST token, running the user-features example: the job's
 * queryable states, each operator's state size from a checkpoint, and key lookups that show the
 * value, "not found", a bad key's error, and the retryable answer while the job waits to
 * restart. Pages are saved as screenshots under test-results/dashboard-state/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import { FAST_RESTARTS, nimble, stopDaemon, TestCluster } from './fixtures/cluster.js';
import { expectedFeatures } from './fixtures/user-features.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const JOB = `${root}packages/examples/src/user-features.ts`;
const SCREENSHOTS = join(root, 'test-results', 'dashboard-state');
const TOKEN = 'dashboard-state-test-token-0123456789';
const EVENTS = 600;
const STREAM = { users: 5, msPerEvent: 1000, maxDelayMs: 3000 };
const FAST_HEARTBEATS = ['-D', 'heartbeat.interval=300 ms', '-D', 'heartbeat.timeout=2 s'];

let cluster: TestCluster;
let browser: Browser;
let page: Page;
let dir: string;
const offLoopback: string[] = [];

async function rest(path: string, init: RequestInit = {}): Promise<any> {
  const res = await fetch(cluster.restUrl + path, {
    ...init,
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
  });
  return res.json();
}

function poll<T>(read: () => Promise<T> | T, timeoutMs = 30_000) {
  return expect.poll(read, { timeout: timeoutMs, interval: 200 });
}

async function screenshot(name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nimble-dashboard-state-'));
  rmSync(SCREENSHOTS, { recursive: true, force: true });
  mkdirSync(SCREENSHOTS, { recursive: true });
  cluster = await TestCluster.start({
    taskManagers: 2,
    slots: 1,
    jm: [
      '-D',
      `security.rest.token=${TOKEN}`,
      '-D',
      'metrics.fetcher.update-interval=200',
      ...FAST_RESTARTS,
      ...FAST_HEARTBEATS,
    ],
    tm: ['-D', 'metrics.fetcher.update-interval=200', ...FAST_HEARTBEATS],
  });
  if (!existsSync('/usr/bin/chromium'))
    throw new Error(
      "The dashboard test drives Debian's chromium at /usr/bin/chromium: apt-get install chromium (.ci/run does)",
    );
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost' || host === '[::1]') return route.continue();
    offLoopback.push(route.request().url());
    return route.abort('blockedbyclient');
  });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  if (page) await screenshot('last').catch(() => {});
  await browser?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the dashboard State tab', () => {
  it('lists the queryable states, their sizes, and looks keys up', async () => {
    const run = await nimble(
      [
        'run',
        '-d',
        '-m',
        cluster.address,
        '-D',
        `state.checkpoints.dir=file://${join(dir, 'checkpoints')}`,
        '-D',
        'execution.checkpointing.interval=1h',
        JOB,
        '--users',
        String(STREAM.users),
        '--events',
        String(EVENTS),
        '--rate',
        '0',
        '--ms-per-event',
        String(STREAM.msPerEvent),
      ],
      { NIMBLE_TOKEN: TOKEN, NIMBLE_EXAMPLE_IMPORT: '0' },
    );
    expect(run.code, run.stderr).toBe(0);
    const jobId = /JobID ([0-9a-f]{32})/.exec(run.stdout)![1]!;
    const job = async () => rest(`/jobs/${jobId}`);
    const features = async () =>
      (await job()).vertices.find((v: { name: string }) => v.name.includes('User features'));
    await poll(async () => (await features())?.metrics?.['read-records'], 60_000).toBe(EVENTS);
    // A checkpoint, for the state sizes.
    await rest(`/jobs/${jobId}/checkpoints`, { method: 'POST', body: '{}' });
    await poll(
      async () => (await rest(`/jobs/${jobId}/checkpoints`)).latest?.completed?.id,
      60_000,
    ).toBe(1);

    await page.goto(`${cluster.restUrl}/#/job/${jobId}/state`);
    await page.getByTestId('login').waitFor({ timeout: 30_000 });
    await page.locator('input[name=token]').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();

    const rows = page.locator('[data-testid=queryable-states] tbody tr');
    await poll(() => rows.count()).toBe(4);
    expect(
      await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-state-name')).sort()),
    ).toEqual([
      'user-last-purchase-ts',
      'user-purchases',
      'user-spend-5min-cents',
      'user-spend-cents',
    ]);
    // Name, operator, kind, TTL, parallelism, max parallelism.
    const row = page.locator(
      '[data-testid=queryable-states] tr[data-state-name=user-purchases] td',
    );
    expect((await row.allTextContents()).map((t) => t.trim())).toEqual([
      'user-purchases',
      'User features',
      'value',
      'no',
      '2',
      '128',
    ]);

    // The features operator's size as of checkpoint 1: a few bytes per user and state.
    const vertexId = String((await features()).id);
    const size = page.locator(
      `[data-testid=state-sizes] tr[data-vertex-id="${vertexId}"] td:nth-child(3)`,
    );
    await poll(() => size.textContent()).toMatch(/^\d+(\.\d)? (B|KB)$/);
    expect(await page.getByTestId('state-sizes').textContent()).toContain('As of checkpoint 1');

    const expected = expectedFeatures(EVENTS, STREAM).get('user-2')!;
    const result = page.getByTestId('lookup-result');
    const lookUp = async (state: string, key: string, keyType = 'string') => {
      await page.getByTestId('lookup-state').selectOption(state);
      await page.getByTestId('lookup-key').fill(key);
      await page.getByTestId('lookup-key-type').selectOption(keyType);
      const before = Number((await result.count()) > 0 ? await result.getAttribute('data-seq') : 0);
      await page.getByTestId('lookup').click();
      // The page numbers its answers: wait for this one.
      await poll(async () =>
        (await result.count()) > 0 ? Number(await result.getAttribute('data-seq')) : 0,
      ).toBe(before + 1);
      return {
        outcome: await result.getAttribute('data-outcome'),
        text: (await result.textContent())!.trim(),
      };
    };

    expect(await lookUp('user-purchases', 'user-2')).toMatchObject({ outcome: 'found' });
    expect(await page.getByTestId('lookup-value').textContent()).toBe(String(expected.purchases));
    expect(await lookUp('user-spend-cents', 'user-2')).toMatchObject({ outcome: 'found' });
    expect(await page.getByTestId('lookup-value').textContent()).toBe(
      String(Math.round(expected.spend_usd * 100)),
    );
    expect(await result.textContent()).toMatch(
      /user-spend-cents\["user-2"\] · key group \d+ · subtask [01] · live/,
    );
    await screenshot('job-state');

    // Committed: as of checkpoint 1, taken after every event was read.
    await page.getByTestId('lookup-mode').selectOption('committed');
    expect(await lookUp('user-purchases', 'user-2')).toMatchObject({ outcome: 'found' });
    expect(await page.getByTestId('lookup-value').textContent()).toBe(String(expected.purchases));
    expect(await result.textContent()).toMatch(
      /user-purchases\["user-2"\] · key group \d+ · subtask [01] · committed \(checkpoint 1\)/,
    );
    await page.getByTestId('lookup-mode').selectOption('live');

    const missing = await lookUp('user-purchases', 'user-99');
    expect(missing.outcome).toBe('not-found');
    expect(missing.text).toMatch(/^Not found: user-purchases has no value for key "user-99"/);
    const bad = await lookUp('user-purchases', 'abc', 'number');
    expect(bad.outcome).toBe('error');
    expect(bad.text).toMatch(/^400: /);

    // A TaskManager dies; the job waits for a slot to restart in: lookups are worth a retry.
    const [lost] = cluster.taskManagers.splice(1, 1);
    await stopDaemon(lost!, 'SIGKILL');
    await poll(async () => (await lookUp('user-purchases', 'user-2')).outcome, 60_000).toBe(
      'retry',
    );
    expect((await result.textContent())!.trim()).toMatch(/^Job restarting, retry\. \(503: /);
    await screenshot('job-state-restarting');

    expect(offLoopback).toEqual([]);
  }, 240_000);
});
