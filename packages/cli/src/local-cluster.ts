import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage } from './daemons.js';

/** A JobManager and TaskManagers running as child processes of this one. */
export interface LocalCluster {
  readonly jobManagerAddress: string;
  readonly restUrl: string;
  readonly taskManagers: readonly ReadyMessage[];
  stop(): Promise<void>;
}

const BIN = fileURLToPath(new URL('../bin/nimble.mjs', import.meta.url));

function startDaemon(args: string[]): Promise<{ child: ChildProcess; ready: ReadyMessage }> {
  const child = fork(BIN, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.on('message', (m: ReadyMessage) => {
      if (m?.nimble === 'ready') resolve({ child, ready: m });
    });
    child.once('exit', (code) =>
      reject(
        new Error(
          `nimble ${args[0]} exited with code ${code} before it was ready (see its log above)`,
        ),
      ),
    );
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts a JobManager and `taskManagers` TaskManagers as processes (the embedded default
 * cluster). Settings in `args` (-c, -D) go to every daemon; TaskManagers pick free ports.
 * Unless `keepJobStore` (set when blob.storage.directory is configured), the JobManager's blob and job
 * store is a directory of this cluster's own, removed when it stops: a job the cluster
 * suspended when it was stopped does not come back in the next `nimble local`.
 */
export async function startLocalCluster(options: {
  taskManagers: number;
  slots: number;
  args: string[];
  keepJobStore?: boolean;
}): Promise<LocalCluster> {
  const children: ChildProcess[] = [];
  const blobs = options.keepJobStore ? undefined : mkdtempSync(join(tmpdir(), 'nimble-local-'));
  const stop = async (): Promise<void> => {
    await Promise.all(children.reverse().map(stopChild));
    if (blobs !== undefined) rmSync(blobs, { recursive: true, force: true });
  };
  try {
    const jm = await startDaemon([
      'jobmanager',
      ...options.args,
      ...(blobs === undefined ? [] : ['-D', `blob.storage.directory=${blobs}`]),
    ]);
    children.push(jm.child);
    const host = '127.0.0.1';
    const tmArgs = [
      'taskmanager',
      ...options.args,
      '-D',
      `jobmanager.rpc.port=${jm.ready.rpcPort}`,
      '-D',
      'taskmanager.rpc.port=0',
      '-D',
      'metrics.reporter.prom.port=0',
      '-D',
      `taskmanager.numberOfTaskSlots=${options.slots}`,
    ];
    const tms = await Promise.all(
      Array.from({ length: options.taskManagers }, () => startDaemon(tmArgs)),
    );
    for (const tm of tms) children.push(tm.child);
    return {
      jobManagerAddress: `${host}:${jm.ready.rpcPort}`,
      restUrl: `http://${host}:${jm.ready.httpPort}`,
      taskManagers: tms.map((t) => t.ready),
      stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
