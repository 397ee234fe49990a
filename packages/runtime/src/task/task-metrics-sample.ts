import { MAX_TIMESTAMP, MIN_TIMESTAMP } from '@nimble/api';
import type { JobVertex } from '../graph/job-graph.js';
import type { ConnectorGauge, OperatorMetrics } from '../operators/operator.js';
import type { LevelBackendMetrics } from '../state/level-keyed-state-backend.js';
import { LevelKeyedStateBackend } from '../state/level-keyed-state-backend.js';
import type { StreamTask } from './stream-task.js';

/** One operator's counters at a moment, plain data that crosses threads and processes. */
export interface OperatorMetricsSample {
  readonly operatorId: string;
  readonly operatorName: string;
  readonly numRecordsIn: number;
  readonly numRecordsOut: number;
  readonly numLateRecordsDropped: number;
  readonly currentInputWatermark: number;
  readonly currentOutputWatermark: number;
  /**
   * Processing time minus the operator's current watermark (its input watermark, a source's
   * output watermark), ms; null before the first watermark and after the last.
   */
  readonly watermarkLag: number | null;
  /** Sources (FLIP-33): processing time minus the event time of the last record emitted, ms. */
  readonly currentEmitEventTimeLag: number | null;
  /** Bytes of the operator subtask's keyed state; null for an operator without keyed state. */
  readonly stateSize: number | null;
  /** The `level` backend's figures; null for other operators. */
  readonly level: LevelBackendMetrics | null;
  /** Connector gauges (e.g. a Kafka partition's offsets), sampled now. */
  readonly gauges: readonly GaugeSample[];
}

/** One connector gauge's value. */
export interface GaugeSample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * One subtask's counters at a moment. Task-level figures follow Flink: records in are the head
 * operator's, records out the chain's last operator's, the input watermark the head's.
 */
export interface TaskMetricsSample {
  readonly vertexId: number;
  readonly subtask: number;
  readonly taskName: string;
  readonly numRecordsIn: number;
  readonly numRecordsOut: number;
  readonly numLateRecordsDropped: number;
  readonly currentInputWatermark: number;
  /** Total time spent waiting for output credit, ms (a rate is derived by the reader). */
  readonly backPressuredTimeMs: number;
  /** Total time spent waiting for input, ms (a rate is derived by the reader). */
  readonly idleTimeMs: number;
  /** When the sample was taken (performance.now() of the thread that took it, ms). */
  readonly sampledAtMs: number;
  readonly numBytesIn: number;
  readonly numBytesOut: number;
  /** Processing time minus the head operator's watermark, ms; null without one. */
  readonly watermarkLag: number | null;
  readonly checkpointAlignmentTimeNanos: number;
  readonly checkpointStartDelayNanos: number;
  readonly operators: readonly OperatorMetricsSample[];
}

export function sampleTaskMetrics(task: StreamTask, vertex: JobVertex): TaskMetricsSample {
  const m = task.metrics();
  const now = Date.now();
  const operators: OperatorMetricsSample[] = [];
  let late = 0;
  for (const node of vertex.nodes) {
    const om = m.operators.get(node.id);
    if (!om) continue;
    late += om.numLateRecordsDropped;
    const backend = m.backends.get(node.id);
    let stateSize: number | null = null;
    try {
      stateSize = backend?.stateSizeBytes() ?? null;
    } catch {
      // A backend closing meanwhile: this report leaves its size out.
    }
    operators.push({
      operatorId: node.uid,
      operatorName: node.name,
      numRecordsIn: om.numRecordsIn,
      numRecordsOut: om.numRecordsOut,
      numLateRecordsDropped: om.numLateRecordsDropped,
      currentInputWatermark: om.currentInputWatermark,
      currentOutputWatermark: om.currentOutputWatermark,
      watermarkLag: watermarkLag(om, now),
      currentEmitEventTimeLag:
        om.lastEmittedEventTime === MIN_TIMESTAMP ? null : now - om.lastEmittedEventTime,
      stateSize,
      level: backend instanceof LevelKeyedStateBackend ? backend.levelMetrics() : null,
      gauges: sampleGauges(om.gauges.values()),
    });
  }
  const headMetrics = m.operators.get(vertex.nodes[0]?.id ?? -1);
  const head = operators[0];
  const tail = operators[operators.length - 1];
  return {
    vertexId: vertex.id,
    subtask: task.subtaskIndex,
    taskName: vertex.name,
    numRecordsIn: head?.numRecordsIn ?? 0,
    numRecordsOut: tail?.numRecordsOut ?? 0,
    numLateRecordsDropped: late,
    currentInputWatermark: head?.currentInputWatermark ?? 0,
    backPressuredTimeMs: m.backPressuredTimeMs,
    idleTimeMs: m.idleTimeMs,
    sampledAtMs: performance.now(),
    numBytesIn: m.numBytesIn,
    numBytesOut: m.numBytesOut,
    watermarkLag: headMetrics ? watermarkLag(headMetrics, now) : null,
    checkpointAlignmentTimeNanos: m.checkpointAlignmentTimeNanos,
    checkpointStartDelayNanos: m.checkpointStartDelayNanos,
    operators,
  };
}

/** Processing time minus the input watermark (a source's output watermark); null without one. */
function watermarkLag(om: OperatorMetrics, now: number): number | null {
  const wm =
    om.currentInputWatermark !== MIN_TIMESTAMP
      ? om.currentInputWatermark
      : om.currentOutputWatermark;
  return wm === MIN_TIMESTAMP || wm >= MAX_TIMESTAMP ? null : now - wm;
}

function sampleGauges(gauges: Iterable<ConnectorGauge>): GaugeSample[] {
  const out: GaugeSample[] = [];
  for (const g of gauges) {
    let value: number;
    try {
      value = g.value();
    } catch {
      continue; // A gauge that cannot be read now is left out of this report.
    }
    if (typeof value === 'number' && Number.isFinite(value))
      out.push({ name: g.name, labels: g.labels, value });
  }
  return out;
}
