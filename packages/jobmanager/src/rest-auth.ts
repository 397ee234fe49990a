// Who may call the REST API when the cluster has a token (docs/security.md).
import { bearerMatches } from '@nimble/proto';
import type { IncomingMessage } from 'node:http';
import { isDashboardPath } from './web-dashboard.js';

/**
 * The requests anyone who reaches the port may make: the cluster's health (`GET /overview`,
 * the compose healthcheck and load balancers use it) and Prometheus scraping (`GET /metrics`,
 * counters without job data). Everything else (jobs, their plans, configuration, exceptions,
 * checkpoints, savepoints, TaskManagers, the JobManager's configuration, metrics and log, job
 * bundle uploads and runs) needs the token. The web dashboard's page and static files are open
 * too: they hold no cluster data, and the page asks for the token itself.
 */
const OPEN = new Set(['GET /overview', 'GET /metrics']);

/** Whether `req` may proceed: no token configured, an open request, or the right bearer token. */
export function restAuthorized(req: IncomingMessage, token: string | undefined): boolean {
  if (token === undefined) return true;
  const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '') || '/';
  if (OPEN.has(`${req.method ?? 'GET'} ${path}`)) return true;
  if (req.method === 'GET' && isDashboardPath(path)) return true;
  return bearerMatches(req.headers.authorization, token);
}
