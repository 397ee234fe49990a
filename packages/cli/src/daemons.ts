import type { ConfigValue } from '@nimble/api';
import { JobManager } from '@nimble/jobmanager';
import type { ClusterConfiguration, LoadedConfiguration } from '@nimble/runtime';
import {
  loadConfiguration,
  parseClusterConfiguration,
  parseExecutionConfiguration,
} from '@nimble/runtime';
import { TaskManager } from '@nimble/taskmanager';

/** Options every command that reads the cluster configuration takes. */
export interface ConfigFlags {
  readonly config?: string;
  readonly D?: string[];
}

export function loadClusterConfiguration(flags: ConfigFlags): {
  loaded: LoadedConfiguration;
  config: ClusterConfiguration;
  tmpDirs: string;
} {
  const loaded = loadConfiguration({
    configFile: flags.config,
    dynamicProperties: flags.D ?? [],
    env: process.env,
  });
  const config = parseClusterConfiguration(loaded);
  const tmpDirs = parseExecutionConfiguration(loaded.entries).tmpDirs;
  return { loaded, config, tmpDirs };
}

/** Message a daemon started by `nimble local` (or a test) sends its parent once it listens. */
export interface ReadyMessage {
  readonly nimble: 'ready';
  readonly role: 'jobmanager' | 'taskmanager';
  readonly rpcPort: number;
  readonly httpPort: number;
  readonly resourceId?: string;
}

function stopOnSignals(stop: () => Promise<void>): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // A parent that started this daemon over IPC and went away takes the daemon with it.
  process.on('disconnect', onSignal);
}

export async function runJobManager(flags: ConfigFlags): Promise<void> {
  const { loaded, config, tmpDirs } = loadClusterConfiguration(flags);
  const jm = new JobManager(config, { ...loaded.entries } as Record<string, ConfigValue>, tmpDirs);
  // As Flink's JobManager: one that lost its leadership has stopped acting; it exits, to be
  // restarted as a standby.
  jm.onLeadershipLost(() => process.exit(1));
  const { rpcPort, restPort } = await jm.start();
  stopOnSignals(() => jm.stop());
  process.send?.({
    nimble: 'ready',
    role: 'jobmanager',
    rpcPort,
    httpPort: restPort,
  } satisfies ReadyMessage);
}

export async function runTaskManager(flags: ConfigFlags): Promise<void> {
  const { config, tmpDirs } = loadClusterConfiguration(flags);
  const tm = new TaskManager(config, tmpDirs);
  const e = await tm.start();
  stopOnSignals(() => tm.stop());
  process.send?.({
    nimble: 'ready',
    role: 'taskmanager',
    rpcPort: e.rpcPort,
    httpPort: e.metricsPort,
    resourceId: e.resourceId,
  } satisfies ReadyMessage);
}
