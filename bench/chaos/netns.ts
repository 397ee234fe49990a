/**
 * The chaos suite's network: a hub namespace (JobManager, Kafka, the S3 server, the driver) and
 * one namespace per TaskManager, each joined to the hub by a veth pair with a private /30. The
 * hub routes between the TaskManagers and holds the services' address on its loopback device.
 * Every address lives inside these namespaces: the host's own network is not touched.
 *
 *   hub:   lo 10.213.0.1/32 (the services), tm<i> 10.213.<i>.1/30, forwarding on
 *   tm<i>: eth0 10.213.<i>.2/30, default route via 10.213.<i>.1
 *
 * A partition drops every packet both ends of a TaskManager's link send: `tc qdisc ... netem
 * loss 100%` where the kernel has netem, else the `blackhole` qdisc (always built in).
 */
import { execFileSync } from 'node:child_process';

export interface TaskManagerLink {
  /** The TaskManager's namespace. */
  readonly ns: string;
  /** The TaskManager's address (its end of the link). */
  readonly address: string;
  /** The link's device in the hub. */
  readonly hubDevice: string;
}

export interface NetworkSpec {
  readonly hub: string;
  /** Address of the JobManager, Kafka and the S3 server, reachable from every namespace. */
  readonly serviceAddress: string;
  readonly taskManagers: TaskManagerLink[];
}

export interface Network {
  readonly hub: string;
  readonly spec: NetworkSpec;
  namespaces(): string[];
  /** Kills what still runs in the namespaces and deletes them. Never throws. */
  destroy(): void;
}

const TM_DEVICE = 'eth0';

function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Creates the hub and `taskManagers` TaskManager namespaces, named `<prefix>-hub`, `<prefix>-tm<i>`. */
export function createNetwork(prefix: string, taskManagers: number): Network {
  const hub = `${prefix}-hub`;
  const created: string[] = [];
  const destroy = () => {
    for (const ns of created.slice().reverse()) {
      try {
        const pids = ip('netns', 'pids', ns).split('\n').filter(Boolean);
        // Only processes of these namespaces, which this run created: the daemons and servers.
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // Gone already.
          }
        }
        ip('netns', 'del', ns);
      } catch {
        // Already deleted.
      }
    }
    created.length = 0;
  };
  try {
    ip('netns', 'add', hub);
    created.push(hub);
    ip('-n', hub, 'link', 'set', 'lo', 'up');
    const serviceAddress = '10.213.0.1';
    ip('-n', hub, 'addr', 'add', `${serviceAddress}/32`, 'dev', 'lo');
    execFileSync('ip', ['netns', 'exec', hub, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    const links: TaskManagerLink[] = [];
    for (let i = 1; i <= taskManagers; i++) {
      const ns = `${prefix}-tm${i}`;
      ip('netns', 'add', ns);
      created.push(ns);
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      const hubDevice = `tm${i}`;
      ip(
        'link',
        'add',
        hubDevice,
        'netns',
        hub,
        'type',
        'veth',
        'peer',
        'name',
        TM_DEVICE,
        'netns',
        ns,
      );
      ip('-n', hub, 'addr', 'add', `10.213.${i}.1/30`, 'dev', hubDevice);
      ip('-n', ns, 'addr', 'add', `10.213.${i}.2/30`, 'dev', TM_DEVICE);
      ip('-n', hub, 'link', 'set', hubDevice, 'up');
      ip('-n', ns, 'link', 'set', TM_DEVICE, 'up');
      ip('-n', ns, 'route', 'add', 'default', 'via', `10.213.${i}.1`);
      links.push({ ns, address: `10.213.${i}.2`, hubDevice });
    }
    const spec: NetworkSpec = { hub, serviceAddress, taskManagers: links };
    return { hub, spec, namespaces: () => created.slice(), destroy };
  } catch (e) {
    destroy();
    throw e;
  }
}

function tc(ns: string, ...args: string[]): void {
  execFileSync('ip', ['netns', 'exec', ns, 'tc', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** How partitions drop packets on this kernel: netem if it has it, else blackhole. */
let dropQdisc: string[] | undefined;

/** Drops all traffic between a TaskManager and the rest (both directions). */
export function partition(spec: NetworkSpec, link: TaskManagerLink): string {
  const ends: [string, string][] = [
    [spec.hub, link.hubDevice],
    [link.ns, TM_DEVICE],
  ];
  for (const [ns, dev] of ends) {
    if (dropQdisc === undefined) {
      try {
        tc(ns, 'qdisc', 'add', 'dev', dev, 'root', 'netem', 'loss', '100%');
        dropQdisc = ['netem', 'loss', '100%'];
        continue;
      } catch {
        dropQdisc = ['blackhole'];
      }
    }
    tc(ns, 'qdisc', 'add', 'dev', dev, 'root', ...dropQdisc);
  }
  return dropQdisc!.join(' ');
}

/** Ends a partition. */
export function heal(spec: NetworkSpec, link: TaskManagerLink): void {
  tc(spec.hub, 'qdisc', 'del', 'dev', link.hubDevice, 'root');
  tc(link.ns, 'qdisc', 'del', 'dev', TM_DEVICE, 'root');
}
