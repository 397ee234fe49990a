// The options the JobManager and TaskManager daemons read, with Flink's keys and defaults.
// docs/configuration.md lists them; a test keeps that page and this catalog in step.
import {
  durationOption,
  enumOption,
  intOption,
  numberOption,
  portOption,
  sizeOption,
  stringOption,
} from './config-option.js';
import type { S3Options } from './checkpoint/storage/s3-options.js';
import { S3ConfigOptions } from './checkpoint/storage/s3-options.js';
import { SecurityOptions } from './security.js';

/** The restart strategies, by their canonical names (Flink's `restart-strategy.type`). */
export type RestartStrategyType = 'none' | 'fixed-delay' | 'failure-rate' | 'exponential-delay';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The daemons' options, with Flink's keys and defaults (durations in milliseconds). */
export const ClusterOptions = {
  jobManagerRpcAddress: stringOption(
    'jobmanager.rpc.address',
    '127.0.0.1',
    'Address TaskManagers and clients use to reach the JobManager (gRPC).',
    { nonEmpty: true },
  ),
  jobManagerRpcPort: portOption(
    'jobmanager.rpc.port',
    6123,
    'JobManager gRPC port; 0 picks a free port.',
  ),
  jobManagerBindHost: stringOption(
    'jobmanager.bind-host',
    '127.0.0.1',
    'Local address the JobManager gRPC server binds to; 0.0.0.0 in containers.',
    { nonEmpty: true },
  ),
  restAddress: stringOption(
    'rest.address',
    '127.0.0.1',
    'Address clients use to reach the JobManager REST API.',
    { nonEmpty: true },
  ),
  restPort: portOption(
    'rest.port',
    8081,
    'JobManager REST (and /metrics) port; 0 picks a free port.',
  ),
  restBindAddress: stringOption(
    'rest.bind-address',
    '127.0.0.1',
    'Local address the REST server binds to; 0.0.0.0 in containers.',
    { nonEmpty: true },
  ),
  numberOfTaskSlots: intOption(
    'taskmanager.numberOfTaskSlots',
    1,
    'Slots a TaskManager offers; each slot runs one parallel pipeline slice in its own thread.',
    { min: 1 },
  ),
  taskManagerHost: stringOption(
    'taskmanager.host',
    '',
    'Address the TaskManager advertises to the JobManager and to other TaskManagers. Empty: the ' +
      'bind host, or os.hostname() when the bind host is a wildcard (0.0.0.0 or ::).',
  ),
  taskManagerBindHost: stringOption(
    'taskmanager.bind-host',
    '127.0.0.1',
    'Local address the TaskManager gRPC server binds to; 0.0.0.0 in containers.',
    { nonEmpty: true },
  ),
  // Flink's default is 0; Nimble keeps 6122 (DESIGN.md's port table, the port of Flink's Docker
  // image) so a container's ports are known in advance. Set 0 to run several TaskManagers on one
  // host.
  taskManagerRpcPort: portOption(
    'taskmanager.rpc.port',
    6122,
    'TaskManager gRPC port (control from the JobManager and data exchange); 0 picks a free port.',
  ),
  taskManagerResourceId: stringOption(
    'taskmanager.resource-id',
    '',
    'Identity of the TaskManager in the cluster. Empty: generated at start.',
  ),
  prometheusPort: portOption(
    'metrics.reporter.prom.port',
    9249,
    "Port of the TaskManager's Prometheus /metrics endpoint; 0 picks a free port.",
  ),
  metricsFetcherUpdateInterval: durationOption(
    'metrics.fetcher.update-interval',
    10 * SECOND,
    'How often the JobManager refreshes the TaskManager metrics it shows in the REST API.',
  ),
  heartbeatInterval: durationOption(
    'heartbeat.interval',
    10 * SECOND,
    'Time between heartbeats between the JobManager and the TaskManagers.',
    { min: 1 },
  ),
  heartbeatTimeout: durationOption(
    'heartbeat.timeout',
    50 * SECOND,
    'Time without a heartbeat after which the peer is considered lost (at least heartbeat.interval).',
    { min: 1 },
  ),
  slotRequestTimeout: durationOption(
    'slot.request.timeout',
    5 * MINUTE,
    'How long a job waits for enough free slots before it fails.',
    { min: 1 },
  ),
  blobStorageDirectory: stringOption(
    'blob.storage.directory',
    '',
    "Directory of the blob store (job bundles). Empty: a directory under io.tmp.dirs, or the OS's " +
      'temp directory when that is empty too.',
  ),
  // High availability (docs/high-availability.md): Flink's keys, plus `storage`, a leader
  // elected through the checkpoint storage itself, whose lease timing follows Flink's
  // high-availability.kubernetes.leader-election.* options.
  highAvailabilityType: enumOption(
    'high-availability.type',
    ['none', 'storage'] as const,
    'none',
    'none: one JobManager. storage: several JobManagers, one leader elected through ' +
      'high-availability.storageDir, which also holds the job store; standbys take over.',
  ),
  highAvailabilityStorageDir: stringOption(
    'high-availability.storageDir',
    '',
    'Shared file:// directory or s3:// URI of the leader election and the job store (bundles, ' +
      'plans); the same for every JobManager and TaskManager of the cluster.',
  ),
  highAvailabilityClusterId: stringOption(
    'high-availability.cluster-id',
    'default',
    'Name of the cluster under high-availability.storageDir: clusters sharing a storageDir ' +
      'need distinct ids.',
    { nonEmpty: true },
  ),
  leaseDuration: durationOption(
    'high-availability.storage.leader-election.lease-duration',
    6 * SECOND,
    'How long a standby waits after the last renewal it saw before it takes over the lead.',
    { min: 1 },
  ),
  renewDeadline: durationOption(
    'high-availability.storage.leader-election.renew-deadline',
    4 * SECOND,
    'A leader that could not renew its lease for this long stops acting (less than the lease ' +
      'duration, so it stops before a standby leads).',
    { min: 1 },
  ),
  leaseRetryPeriod: durationOption(
    'high-availability.storage.leader-election.retry-period',
    1 * SECOND,
    "Time between a leader's renewals and between a standby's looks at the lease.",
    { min: 1 },
  ),
  restServerMaxContentLength: sizeOption(
    'rest.server.max-content-length',
    104_857_600,
    'Largest request the JobManager accepts: a REST request body, and a job submission (bundle ' +
      'and plan) over gRPC. Larger requests are refused before they are stored.',
  ),
  // Flink's name since 1.18 (akka.framesize before), with its default of 10 MiB.
  rpcFrameSize: sizeOption(
    'pekko.framesize',
    10_485_760,
    'Largest gRPC message between the daemons (control calls and data exchange frames); a ' +
      'larger one is refused with RESOURCE_EXHAUSTED. Job submissions are bounded by ' +
      'rest.server.max-content-length instead.',
  ),
  taskManagerRegistrationTimeout: durationOption(
    'taskmanager.registration.timeout',
    5 * MINUTE,
    'A TaskManager that cannot register with the JobManager within this time exits.',
    { min: 1 },
  ),

  restartStrategy: enumOption(
    'restart-strategy.type',
    ['none', 'fixed-delay', 'failure-rate', 'exponential-delay'] as const,
    undefined,
    'Restart strategy of failed jobs. Unset: none without checkpointing, exponential-delay with ' +
      'checkpointing (Flink 1.19+).',
    {
      off: 'none',
      disable: 'none',
      fixeddelay: 'fixed-delay',
      failurerate: 'failure-rate',
      exponentialdelay: 'exponential-delay',
    },
  ),
  fixedDelayAttempts: intOption(
    'restart-strategy.fixed-delay.attempts',
    1,
    'fixed-delay: restarts before the job is declared failed.',
    { min: 0 },
  ),
  fixedDelayDelay: durationOption(
    'restart-strategy.fixed-delay.delay',
    1 * SECOND,
    'fixed-delay: time between a failure and the restart.',
  ),
  failureRateMaxFailuresPerInterval: intOption(
    'restart-strategy.failure-rate.max-failures-per-interval',
    1,
    'failure-rate: failures within one interval that are still restarted; one more fails the job.',
    { min: 1 },
  ),
  failureRateInterval: durationOption(
    'restart-strategy.failure-rate.failure-rate-interval',
    1 * MINUTE,
    'failure-rate: the interval in which failures are counted.',
    { min: 1 },
  ),
  failureRateDelay: durationOption(
    'restart-strategy.failure-rate.delay',
    1 * SECOND,
    'failure-rate: time between a failure and the restart.',
  ),
  exponentialDelayInitialBackoff: durationOption(
    'restart-strategy.exponential-delay.initial-backoff',
    1 * SECOND,
    'exponential-delay: backoff after the first failure.',
    { min: 1 },
  ),
  exponentialDelayMaxBackoff: durationOption(
    'restart-strategy.exponential-delay.max-backoff',
    1 * MINUTE,
    'exponential-delay: the longest backoff.',
    { min: 1 },
  ),
  exponentialDelayBackoffMultiplier: numberOption(
    'restart-strategy.exponential-delay.backoff-multiplier',
    1.5,
    'exponential-delay: factor the backoff grows by with each failure.',
    { min: 1, exclusiveMin: true },
  ),
  exponentialDelayResetBackoffThreshold: durationOption(
    'restart-strategy.exponential-delay.reset-backoff-threshold',
    1 * HOUR,
    'exponential-delay: failure-free running time after which the backoff (and the attempt ' +
      'count) starts again from the beginning.',
    { min: 1 },
  ),
  exponentialDelayJitterFactor: numberOption(
    'restart-strategy.exponential-delay.jitter-factor',
    0.1,
    'exponential-delay: the backoff varies randomly by up to this fraction, up or down, so that ' +
      'many jobs do not restart at the same moment.',
    { min: 0, max: 1 },
  ),
  exponentialDelayAttemptsBeforeResetBackoff: intOption(
    'restart-strategy.exponential-delay.attempts-before-reset-backoff',
    Number.POSITIVE_INFINITY,
    'exponential-delay: restarts before the job is declared failed, counted since the backoff ' +
      'was last reset. Unbounded by default.',
    { min: 1 },
  ),
  s3Endpoint: S3ConfigOptions.endpoint,
  s3Region: S3ConfigOptions.region,
  s3AccessKey: S3ConfigOptions.accessKey,
  s3SecretKey: S3ConfigOptions.secretKey,
  s3PathStyleAccess: S3ConfigOptions.pathStyleAccess,
  ...SecurityOptions,
} as const;

/** The S3 settings of a cluster configuration. */
export function s3OptionsOf(c: ClusterConfiguration): S3Options {
  const orUndefined = (value: string) => (value === '' ? undefined : value);
  return {
    endpoint: orUndefined(c.s3Endpoint),
    region: c.s3Region,
    accessKey: orUndefined(c.s3AccessKey),
    secretKey: orUndefined(c.s3SecretKey),
    pathStyleAccess: c.s3PathStyleAccess,
  };
}

type Options = typeof ClusterOptions;
/** Parsed cluster options; `restartStrategy` is `undefined` when `restart-strategy.type` is unset. */
export type ClusterConfiguration = {
  readonly [K in keyof Options]: Options[K]['defaultValue'];
};
