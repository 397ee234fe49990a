/**
 * Entry point of a job's split-enumerator worker thread (in the JobManager): loads the job
 * bundle, rebuilds the job graph, checks its digest and runs the sources' split enumerators
 * (Flink's SourceCoordinator). User code runs here, never on the daemon's main thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ensureError } from '../errors.js';
import { buildJobGraph, describeJobGraph } from '../graph/job-graph.js';
import { graphDigestOf } from './graph-digest.js';
import { JobCoordinator } from './job-coordinator.js';
import { loadPipeline } from './load-pipeline.js';
import type { EnumeratorWorkerData, FromEnumerator, ToEnumerator } from './enumerator-protocol.js';
import { serializeError } from './worker-protocol.js';

const data = workerData as EnumeratorWorkerData;
const port = parentPort!;
const post = (m: FromEnumerator): void => port.postMessage(m);

async function main(): Promise<void> {
  let coordinator: JobCoordinator;
  try {
    const loaded = await loadPipeline(data.jobModule, "the JobManager's split-enumerator worker");
    // As in slot workers: the submitted configuration (-D, -p) is authoritative, not the one the
    // module built in this thread.
    const pipeline = { ...loaded, configuration: data.configuration };
    const graph = buildJobGraph(pipeline);
    if (graphDigestOf(describeJobGraph(graph)) !== data.graphDigest) {
      throw new Error(
        'The job module built a different job graph in the JobManager than in the client. ' +
          'Job code must build the same pipeline every time it runs (no randomness or environment-dependent operators).',
      );
    }
    coordinator = new JobCoordinator(graph, {
      stdout: () => {},
      stderr: () => {},
    });
    coordinator.gateway = {
      assignSplits: (vertexId, subtask, splits) =>
        post({ type: 'splits', vertexId, subtask, splits }),
      noMoreSplits: (vertexId, subtask) => post({ type: 'noMoreSplits', vertexId, subtask }),
      cancelAll: () => {},
    };
    coordinator.result.catch((e: unknown) =>
      post({ type: 'failed', error: serializeError(ensureError(e)) }),
    );
    const restored = data.restored
      ? new Map(Object.entries(data.restored).map(([k, v]) => [Number(k), v]))
      : undefined;
    await coordinator.startEnumerators(restored);
  } catch (e) {
    post({ type: 'failed', error: serializeError(ensureError(e)) });
    return;
  }
  port.on('message', (m: ToEnumerator) => {
    if (m.type === 'readerRegistered') coordinator.readerRegistered(m.vertexId, m.subtask);
    else if (m.type === 'snapshot') {
      try {
        const states = Object.fromEntries(coordinator.snapshotEnumerators(m.checkpointId));
        post({ type: 'snapshot', checkpointId: m.checkpointId, states });
      } catch (e) {
        post({
          type: 'snapshot',
          checkpointId: m.checkpointId,
          error: serializeError(ensureError(e)),
        });
      }
    }
  });
  post({ type: 'ready' });
}

void main();
