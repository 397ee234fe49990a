/**
 * Entry point of a slot's worker thread: loads the job module to obtain the user's functions,
 * rebuilds the same job graph, and runs the subtasks of its slot.
 */
import type { MessageEndpoint } from '../exchange/channel.js';
import { parentPort, workerData } from 'node:worker_threads';
import { parseExecutionConfiguration } from '../config.js';
import { ensureError } from '../errors.js';
import { buildJobGraph, describeJobGraph } from '../graph/job-graph.js';
import { graphDigestOf } from './graph-digest.js';
import { loadPipeline } from './load-pipeline.js';
import { TaskHost } from '../task/task-host.js';
import { SystemProcessingTimeService } from '../timers/processing-time-service.js';
import { fileSystemFor, s3OptionsFrom, withStorageTimeout } from '../checkpoint/storage/index.js';
import type { FromWorker, SlotWorkerData, ToWorker } from './worker-protocol.js';
import { DataPort, serializeError } from './worker-protocol.js';

const data = workerData as SlotWorkerData;
const port = parentPort!;
const post = (m: FromWorker): void => port.postMessage(m);

async function main(): Promise<void> {
  let host: TaskHost;
  try {
    const loaded = await loadPipeline(data.jobModule, `slot ${data.slot}'s worker`);
    // The configuration the job was submitted with, not the one the module built here: it holds
    // the -D options and the job parameters of the submitting process, which a module rebuilt
    // in this thread (other argv, environment, clock) need not reproduce.
    const pipeline = { ...loaded, configuration: data.configuration };
    const config = parseExecutionConfiguration(pipeline.configuration);
    const graph = buildJobGraph(pipeline);
    if (graphDigestOf(describeJobGraph(graph)) !== data.graphDigest) {
      throw new Error(
        `Slot ${data.slot}: the job module built a different job graph in the worker than in the client. ` +
          'Job code must build the same pipeline every time it runs (no randomness or environment-dependent operators).',
      );
    }
    const ports = new Map<number, MessageEndpoint>();
    for (const [slot, p] of Object.entries(data.ports)) ports.set(Number(slot), new DataPort(p));
    host = new TaskHost({
      graph,
      config,
      attemptNumber: data.attemptNumber,
      slot: data.slot,
      allSlots: false,
      ports,
      processingTimeService: new SystemProcessingTimeService(),
      localStateDir: data.localStateDir,
      fileSystem: (uri) =>
        withStorageTimeout(
          fileSystemFor(uri, data.s3 ?? s3OptionsFrom((o) => o.defaultValue)),
          config.stateStorageTimeout,
        ),
      restore: data.restore,
      events: {
        readerRegistered: (vertexId, subtask) =>
          post({ type: 'readerRegistered', vertexId, subtask }),
        taskFinished: (vertexId, subtask, metrics) =>
          post({ type: 'taskFinished', vertexId, subtask, metrics }),
        taskFailed: (vertexId, subtask, error) =>
          post({ type: 'taskFailed', vertexId, subtask, error: serializeError(error) }),
        collect: (collectId, subtask, values) =>
          post({ type: 'collect', collectId, subtask, values }),
        acknowledgeCheckpoint: (vertexId, subtask, checkpointId, ack) =>
          post({ type: 'checkpointAck', vertexId, subtask, checkpointId, ack }),
        declineCheckpoint: (vertexId, subtask, checkpointId, error) =>
          post({
            type: 'checkpointDecline',
            vertexId,
            subtask,
            checkpointId,
            error: serializeError(error),
          }),
        queryableStateRegistered: (vertexId, subtask, registration) =>
          post({ type: 'queryableStateRegistered', vertexId, subtask, registration }),
        stdout: (text) => post({ type: 'stdout', text }),
        stderr: (text) => post({ type: 'stderr', text }),
      },
    });
    host.deploy();
  } catch (e) {
    post({ type: 'deployFailed', error: serializeError(ensureError(e)) });
    return;
  }
  port.on('message', (m: ToWorker) => {
    try {
      switch (m.type) {
        case 'start':
          host.start();
          if (data.metricsIntervalMs > 0) {
            setInterval(
              () => post({ type: 'metrics', tasks: host.sampleMetrics() }),
              data.metricsIntervalMs,
            ).unref();
          }
          break;
        case 'splits':
          host.assignSplits(m.vertexId, m.subtask, m.splits);
          break;
        case 'noMoreSplits':
          host.noMoreSplits(m.vertexId, m.subtask);
          break;
        case 'cancel':
          void host.cancel().finally(() => post({ type: 'cancelled' }));
          break;
        case 'triggerCheckpoint':
          host.triggerCheckpoint(m.vertexId, m.subtask, m.checkpointId, m.options);
          break;
        case 'checkpointComplete':
          void host
            .notifyCheckpointComplete(m.checkpointId)
            .finally(() => post({ type: 'checkpointNotified', checkpointId: m.checkpointId }));
          break;
        case 'checkpointAborted':
          host.notifyCheckpointAborted(m.checkpointId);
          break;
        case 'queryState': {
          const { requestId } = m;
          const failed = (e: unknown): void =>
            post({ type: 'queryStateFailed', requestId, error: serializeError(ensureError(e)) });
          host.queryState(m.vertexId, m.subtask, m.name, m.keys).then((results) => {
            try {
              post({ type: 'queryStateResult', requestId, results });
            } catch (e) {
              // A value structuredClone cannot copy: the lookup fails, not the task.
              failed(e);
            }
          }, failed);
          break;
        }
      }
    } catch (e) {
      post({
        type: 'taskFailed',
        vertexId: -1,
        subtask: data.slot,
        error: serializeError(ensureError(e)),
      });
    }
  });
  post({ type: 'deployed' });
}

void main();
