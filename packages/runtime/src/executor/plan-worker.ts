/**
 * Entry point of a plan worker thread (in the JobManager, for a job bundle uploaded over REST):
 * loads the bundle as `nimble run` loads a job module, and sends back the plan it builds. User
 * code runs here, never on the daemon's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { parseExecutionConfiguration } from '../config.js';
import { ensureError } from '../errors.js';
import { buildJobGraph, describeJobGraph } from '../graph/job-graph.js';
import { graphDigestOf } from './graph-digest.js';
import { loadPipeline } from './load-pipeline.js';
import type { FromPlanWorker, PlanWorkerData } from './plan-job-module.js';
import { serializeError } from './worker-protocol.js';

const data = workerData as PlanWorkerData;
const post = (m: FromPlanWorker): void => parentPort!.postMessage(m);

try {
  const pipeline = await loadPipeline(data.jobModule, "the JobManager's plan worker");
  const configuration: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...pipeline.configuration, ...data.configuration }))
    configuration[k] = String(v);
  parseExecutionConfiguration(configuration);
  const description = describeJobGraph(buildJobGraph({ ...pipeline, configuration }));
  post({
    type: 'plan',
    jobName: pipeline.jobName,
    planJson: JSON.stringify(description),
    graphDigest: graphDigestOf(description),
    configuration,
  });
} catch (e) {
  post({ type: 'failed', error: serializeError(ensureError(e)) });
}
