import type { ChildProcess } from 'node:child_process';
import { fork } from 'node:child_process';
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
 */
export async function startLocalCluster(options: {
  taskManagers: number;
  slots: number;
  args: string[];
}): Promise<LocalCluster> {
  const children: ChildProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(children.reverse().map(stopChild));
  };
  try {
    const jm = await startDaemon(['jobmanager', ...options.args]);
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
