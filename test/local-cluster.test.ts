import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { NIMBLE_BIN } from './fixtures/cluster.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('nimble local', () => {
  it('keeps its job store in a directory of its own and removes it when stopped', async () => {
    // The daemons' temporary directories go under this one only.
    const tmp = mkdtempSync(join(tmpdir(), 'nimble-local-test-'));
    dirs.push(tmp);
    const child = spawn(process.execPath, [NIMBLE_BIN, 'local', '-n', '1'], {
      env: { ...process.env, TMPDIR: tmp, NIMBLE_LOG_FORMAT: 'json' },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    while (!stderr.includes('Local cluster:')) {
      if (child.exitCode !== null) throw new Error(`nimble local exited early:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const own = readdirSync(tmp).filter((f) => f.startsWith('nimble-local-'));
    expect(own).toHaveLength(1);
    // Not the shared default a JobManager uses when nothing is configured.
    expect(readdirSync(tmp)).not.toContain('nimble-jobmanager-blobs');
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(readdirSync(tmp).filter((f) => f.startsWith('nimble-local-'))).toEqual([]);
  });
});
