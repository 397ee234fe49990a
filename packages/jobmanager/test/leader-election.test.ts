// The lease logic of high availability on a real directory (file://): two candidates racing for
// the first epoch, a standby taking over a lease that is no longer renewed, a released lease, and
// a leader that steps down when it cannot renew or sees a newer epoch, before a standby leads.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StateFileSystem } from '@nimble/runtime';
import {
  createLogger,
  fileSystemFor,
  leaderEpochs,
  leaderRecordUri,
  readLeader,
  parseClusterConfiguration,
  s3OptionsOf,
} from '@nimble/runtime';
import { LeaderElector } from '../src/leader-election.js';
import { JobManagerHighAvailability, LeadershipLostError } from '../src/high-availability.js';

const log = createLogger('test', {});
// The elector logs each step; the assertions say what matters.
log.level = 'silent';
// Generous timing for a loaded machine; the invariants do not depend on speed.
const settings = { leaseDuration: 1500, renewDeadline: 1000, retryPeriod: 150 };

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000) {
  const end = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LeaderElector on file://', () => {
  const dirs: string[] = [];
  const electors: LeaderElector[] = [];
  const fs = fileSystemFor('file:///', s3OptionsOf(parseClusterConfiguration({})));

  function root(): string {
    const dir = mkdtempSync(join(tmpdir(), 'nimble-lease-'));
    dirs.push(dir);
    return `file://${dir}/cluster`;
  }

  function elector(r: string, name: string, storage: StateFileSystem = fs): LeaderElector {
    const e = new LeaderElector(
      storage,
      r,
      { holder: name, rpcAddress: `${name}:6123`, restUrl: `http://${name}:8081` },
      settings,
      log,
    );
    electors.push(e);
    return e;
  }

  afterEach(async () => {
    await Promise.all(electors.splice(0).map((e) => e.stop(false)));
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('creates a record only once', async () => {
    const uri = `${root()}/leader/x`;
    expect(await fs.createExclusive(uri, Buffer.from('a'))).toBe(true);
    expect(await fs.createExclusive(uri, Buffer.from('b'))).toBe(false);
    expect(readFileSync(new URL(uri), 'utf8')).toBe('a');
  });

  it('elects exactly one of two candidates racing for the first epoch', async () => {
    const r = root();
    const a = elector(r, 'a');
    const b = elector(r, 'b');
    a.start();
    b.start();
    await until(() => a.isLeader || b.isLeader);
    const [leader, standby] = a.isLeader ? [a, b] : [b, a];
    expect(leader.epoch).toBe(1);
    // Several lease durations later the leader still leads (it renews) and the other waits.
    const renewalsBefore = (await readLeader(fs, r))!.renewals;
    await until(async () => (await readLeader(fs, r))!.renewals >= renewalsBefore + 15);
    expect(leader.isLeader).toBe(true);
    expect(standby.state).toBe('standby');
    expect(standby.leader?.holder).toBe(leader === a ? 'a' : 'b');
    expect(await leaderEpochs(fs, r)).toEqual([1]);
  });

  it('lets a standby take over a lease that is not renewed, after the lease duration', async () => {
    const r = root();
    const a = elector(r, 'a');
    a.start();
    await until(() => a.isLeader);
    const b = elector(r, 'b');
    b.start();
    await until(() => b.leader?.holder === 'a');
    // The leader dies: its record stays, unreleased, and stops changing.
    await a.stop(false);
    const died = performance.now();
    await until(() => b.isLeader);
    // The standby counts the lease from when it saw the last renewal, which may be up to one
    // retry period before the leader stopped.
    expect(performance.now() - died).toBeGreaterThanOrEqual(
      settings.leaseDuration - settings.retryPeriod,
    );
    expect(b.epoch).toBe(2);
    const record = await readLeader(fs, r);
    expect(record).toMatchObject({ holder: 'b', epoch: 2, rpcAddress: 'b:6123', released: false });
  });

  it('hands over at once when the leader releases its lease', async () => {
    const r = root();
    const a = elector(r, 'a');
    a.start();
    await until(() => a.isLeader);
    const b = elector(r, 'b');
    b.start();
    await until(() => b.leader?.holder === 'a');
    await a.stop(true);
    expect(JSON.parse(readFileSync(new URL(leaderRecordUri(r, 1)), 'utf8'))).toMatchObject({
      holder: 'a',
      released: true,
    });
    await until(() => b.isLeader);
    expect(b.epoch).toBe(2);
  });

  it('steps down after the renew deadline, before a standby leads', async () => {
    const r = root();
    let failing = false;
    // The leader's store refuses writes, as a store it is cut off from would.
    const flaky: StateFileSystem = {
      write: (uri, data) => fs.write(uri, data),
      exists: (uri) => fs.exists(uri),
      delete: (uri) => fs.delete(uri),
      deleteRecursive: (uri) => fs.deleteRecursive(uri),
      close: () => fs.close(),
      list: (uri) => fs.list(uri),
      read: (uri, range) => fs.read(uri, range),
      createExclusive: (uri, data) => fs.createExclusive(uri, data),
      writeAtomic: (uri, data) =>
        failing ? Promise.reject(new Error('store unreachable')) : fs.writeAtomic(uri, data),
    };
    const a = elector(r, 'a', flaky);
    const lost: { at: number; reason: string }[] = [];
    a.onLost((reason) => lost.push({ at: performance.now(), reason }));
    a.start();
    await until(() => a.isLeader);
    const b = elector(r, 'b');
    let bLeadsAt = 0;
    b.onLeading(() => (bLeadsAt = performance.now()));
    b.start();
    await until(() => b.leader?.holder === 'a');
    failing = true;
    await until(() => b.isLeader);
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toMatch(/not renewed for \d+ ms \(renew-deadline 1000 ms\)/);
    expect(lost[0]!.at).toBeLessThan(bLeadsAt);
    expect(a.state).toBe('lost');
    expect(a.isLeader).toBe(false);
    expect(a.epoch).toBe(0);
  });

  it('steps down when it sees a newer epoch', async () => {
    const r = root();
    const a = elector(r, 'a');
    const reasons: string[] = [];
    a.onLost((reason) => reasons.push(reason));
    a.start();
    await until(() => a.isLeader);
    const forged = {
      holder: 'x',
      epoch: 2,
      rpcAddress: 'x:1',
      restUrl: 'http://x:1',
      renewals: 0,
      released: false,
    };
    expect(
      await fs.createExclusive(leaderRecordUri(r, 2), Buffer.from(JSON.stringify(forged))),
    ).toBe(true);
    await until(() => a.state === 'lost');
    expect(reasons).toEqual(['a newer leader took epoch 2']);
  });
});

describe('JobManagerHighAvailability', () => {
  it('a leader that lost its lease writes nothing and names itself so', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nimble-ha-fence-'));
    const config = parseClusterConfiguration({
      'high-availability.type': 'storage',
      'high-availability.storageDir': `file://${dir}`,
      'high-availability.cluster-id': 'c1',
    });
    const ha = new JobManagerHighAvailability(
      config,
      'jm-a',
      { rpcAddress: 'a:6123', restUrl: 'http://a:8081' },
      10_000,
      log,
    );
    const fs = fileSystemFor('file:///', s3OptionsOf(config));
    try {
      expect(ha.standbyReason()).toBe(
        'This JobManager is a standby and knows no live leader yet: retry shortly',
      );
      ha.elector.start();
      await until(() => ha.isLeader);
      expect(ha.standbyReason()).toBeUndefined();
      const fenced = ha.fence(fs);
      const chk = `file://${dir}/chk-1/_metadata`;
      await fenced.writeAtomic(chk, Buffer.from('ok'));
      // A newer leader appears: this one stops acting.
      await fs.createExclusive(
        leaderRecordUri(ha.root, 2),
        Buffer.from(
          JSON.stringify({
            holder: 'jm-b',
            epoch: 2,
            rpcAddress: 'b:6123',
            restUrl: 'http://b:8081',
            renewals: 0,
            released: false,
          }),
        ),
      );
      await until(() => ha.elector.state === 'lost');
      await expect(fenced.writeAtomic(chk, Buffer.from('late'))).rejects.toThrow(
        `Writing ${chk} refused: this JobManager lost its leadership and stops acting; the new leader recovers the job from its latest checkpoint`,
      );
      await expect(fenced.deleteRecursive(`file://${dir}/chk-1`)).rejects.toThrow(
        LeadershipLostError,
      );
      expect(readFileSync(new URL(chk), 'utf8')).toBe('ok');
      expect(ha.standbyReason()).toBe(
        'This JobManager lost its leadership and knows no live leader yet: retry shortly',
      );
      expect(ha.standbyRefusal()?.code).toBe(14); // UNAVAILABLE
    } finally {
      await ha.elector.stop(false);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
