import type { JobVertex } from '../graph/job-graph.js';
import type { ConnectorGauge } from '../operators/operator.js';
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
  readonly operators: readonly OperatorMetricsSample[];
}

export function sampleTaskMetrics(task: StreamTask, vertex: JobVertex): TaskMetricsSample {
  const m = task.metrics();
  const operators: OperatorMetricsSample[] = [];
  let late = 0;
  for (const node of vertex.nodes) {
    const om = m.operators.get(node.id);
    if (!om) continue;
    late += om.numLateRecordsDropped;
    operators.push({
      operatorId: node.uid,
      operatorName: node.name,
      numRecordsIn: om.numRecordsIn,
      numRecordsOut: om.numRecordsOut,
      numLateRecordsDropped: om.numLateRecordsDropped,
      currentInputWatermark: om.currentInputWatermark,
      currentOutputWatermark: om.currentOutputWatermark,
      gauges: sampleGauges(om.gauges.values()),
    });
  }
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
    operators,
  };
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
