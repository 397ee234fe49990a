/**
 * A feature server for a model server: `GET /features/:userId` answers the user's online features
 * (user-features.ts) read from the running job's queryable state through `@nimble/client`, and
 * `GET /features?user=a&user=b` answers several users with one batched lookup per state.
 *
 *   pnpm --filter @nimble/examples feature-server -- --jobmanager 127.0.0.1:6123 --port 8090
 *   curl localhost:8090/features/user-42
 *
 * 200 with the features; 404 for a user the job has not seen; 503 with Retry-After while the
 * job restarts (its state is being restored), as the JobManager answers then; 502 when the
 * lookup fails otherwise (the message says why). NIMBLE_TOKEN is sent when the cluster has one.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import { JobManagerClient, StateUnavailableError } from '@nimble/client';
import { jobArgs } from './args.js';
import { FEATURE_STATES, USER_FEATURES_JOB } from './user-features-pipeline.js';

/** The features of one user, as the model server gets them. */
export interface UserFeatureVector {
  user_id: string;
  purchases: number;
  spend_usd: number;
  spend_5min_usd: number;
  last_purchase_ts: number;
}

/** Options of {@link createFeatureServer}. */
export interface FeatureServerOptions {
  readonly client: JobManagerClient;
  /** The running user-features job. */
  readonly jobId: string;
  /** `live` (default): the values now; `committed`: as of the job's latest completed checkpoint. */
  readonly mode?: 'live' | 'committed';
  /** At most this many users in one batched request (default 1000). */
  readonly maxUsers?: number;
}

const STATES = [
  FEATURE_STATES.purchases,
  FEATURE_STATES.spendCents,
  FEATURE_STATES.spend5MinCents,
  FEATURE_STATES.lastPurchaseTs,
] as const;

/** The feature vector of a user from the values of {@link STATES}, or null for an unknown user. */
function vector(userId: string, values: (number | undefined)[]): UserFeatureVector | null {
  const [purchases, spend, spend5Min, last] = values;
  // Every purchase sets all four; a user without a purchase count has never bought.
  if (purchases === undefined) return null;
  return {
    user_id: userId,
    purchases,
    spend_usd: (spend ?? 0) / 100,
    spend_5min_usd: (spend5Min ?? 0) / 100,
    last_purchase_ts: last ?? 0,
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** An HTTP server (not yet listening) that answers features from the job's queryable state. */
export function createFeatureServer(o: FeatureServerOptions): Server {
  const mode = o.mode ?? 'live';
  const maxUsers = o.maxUsers ?? 1000;

  /** One user: the four states read in parallel, each a single-key lookup. */
  const one = async (userId: string) =>
    vector(
      userId,
      await Promise.all(STATES.map((s) => o.client.getState<number>(o.jobId, s, userId, { mode }))),
    );

  /** Several users: one batched lookup per state, whatever the number of users. */
  const many = async (userIds: string[]) => {
    const columns = await Promise.all(
      STATES.map((s) => o.client.getStates<number>(o.jobId, s, userIds, { mode })),
    );
    return userIds.map((u, i) =>
      vector(
        u,
        columns.map((c) => c[i]),
      ),
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://feature-server');
    if (req.method !== 'GET') {
      send(res, 405, { error: `${req.method} is not supported: use GET` }, { allow: 'GET' });
      return;
    }
    const single = /^\/features\/([^/]+)$/.exec(url.pathname);
    if (single) {
      let userId: string;
      try {
        userId = decodeURIComponent(single[1]!);
      } catch {
        send(res, 400, { error: `The user id ${single[1]} is not valid URL encoding` });
        return;
      }
      const features = await one(userId);
      if (features) send(res, 200, features);
      else
        send(res, 404, {
          error: `No features for user ${JSON.stringify(userId)}: no purchase seen`,
        });
      return;
    }
    if (url.pathname === '/features') {
      const users = url.searchParams.getAll('user');
      if (users.length === 0 || users.length > maxUsers) {
        send(res, 400, {
          error: `Give 1 to ${maxUsers} users as ?user=a&user=b; got ${users.length}`,
        });
        return;
      }
      send(res, 200, { features: await many(users) });
      return;
    }
    send(res, 404, {
      error: `No route ${url.pathname}: use GET /features/:userId or /features?user=`,
    });
  };

  return createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof StateUnavailableError) {
        send(
          res,
          503,
          { error: `The feature job is restarting; retry: ${message}` },
          {
            'retry-after': '1',
          },
        );
      } else {
        send(res, 502, { error: `Feature lookup failed: ${message}` });
      }
    });
  });
}

/** The id of the running job named `name`; an error naming the jobs there are otherwise. */
export async function findRunningJob(client: JobManagerClient, name: string): Promise<string> {
  const jobs = await client.listJobs(true);
  const job = jobs.find((j) => j.name === name);
  if (!job) {
    const names = jobs.map((j) => `${j.name} (${j.jobId})`).join(', ') || 'none';
    throw new Error(
      `No running job named ${JSON.stringify(name)} at ${client.address}; running jobs: ${names}. ` +
        'Start it with nimble run -d packages/examples/src/user-features.ts, or pass --job <id>.',
    );
  }
  return job.jobId;
}

// Run only as a program, not when a test imports the functions above.
if (process.env['NIMBLE_EXAMPLE_IMPORT'] !== '1') {
  const args = jobArgs({ jobmanager: '127.0.0.1:6123', port: 8090, job: '', mode: 'live' });
  if (args.mode !== 'live' && args.mode !== 'committed')
    throw new Error(`--mode is live or committed; got ${JSON.stringify(args.mode)}`);
  const token = process.env['NIMBLE_TOKEN']?.trim();
  const client = new JobManagerClient(args.jobmanager, token ? { token } : {});
  const jobId = args.job || (await findRunningJob(client, USER_FEATURES_JOB));
  const server = createFeatureServer({ client, jobId, mode: args.mode });
  server.listen(args.port, () => {
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : args.port;
    process.stdout.write(
      `Serving the features of job ${jobId} on http://localhost:${port}/features/:userId\n`,
    );
  });
}
