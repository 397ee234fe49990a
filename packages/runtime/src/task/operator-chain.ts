import type { JobVertex, StreamNode } from '../graph/job-graph.js';
import type { RecordWriter } from '../exchange/record-writer.js';
import type { Output, StreamOperator } from '../operators/operator.js';

/** Where an output sends: a chained operator or a network writer. */
interface Target {
  record(value: unknown, timestamp: number | undefined): void;
  watermark(watermark: number): void;
  status(idle: boolean): void;
}

class ChainedTarget implements Target {
  constructor(
    private readonly op: StreamOperator<unknown, unknown>,
    private readonly metrics: { numRecordsIn: number },
  ) {}
  record(value: unknown, timestamp: number | undefined): void {
    this.metrics.numRecordsIn++;
    this.op.setKeyContextElement(value);
    this.op.processElement(value, timestamp);
  }
  watermark(watermark: number): void {
    this.op.processWatermark(watermark);
  }
  status(idle: boolean): void {
    this.op.processWatermarkStatus(idle);
  }
}

class NetworkTarget implements Target {
  constructor(private readonly writer: RecordWriter) {}
  record(value: unknown, timestamp: number | undefined): void {
    this.writer.emit(value, timestamp);
  }
  watermark(watermark: number): void {
    this.writer.emitWatermark(watermark);
  }
  status(idle: boolean): void {
    this.writer.emitWatermarkStatus(idle);
  }
}

/** An operator's output: its chained successors and network writers, main and side outputs. */
class ChainOutput implements Output<unknown> {
  private readonly single: Target | undefined;
  constructor(
    private readonly main: Target[],
    private readonly side: Map<string, Target[]>,
    private readonly metrics: { numRecordsOut: number; currentOutputWatermark: number },
  ) {
    this.single = main.length === 1 ? main[0] : undefined;
  }
  collect(value: unknown, timestamp: number | undefined): void {
    this.metrics.numRecordsOut++;
    if (this.single !== undefined) {
      this.single.record(value, timestamp);
      return;
    }
    for (const t of this.main) t.record(value, timestamp);
  }
  collectSide(tagId: string, value: unknown, timestamp: number | undefined): void {
    const targets = this.side.get(tagId);
    if (targets === undefined) return;
    for (const t of targets) t.record(value, timestamp);
  }
  emitWatermark(watermark: number): void {
    this.metrics.currentOutputWatermark = watermark;
    for (const t of this.main) t.watermark(watermark);
    for (const targets of this.side.values()) for (const t of targets) t.watermark(watermark);
  }
  emitWatermarkStatus(idle: boolean): void {
    for (const t of this.main) t.status(idle);
    for (const targets of this.side.values()) for (const t of targets) t.status(idle);
  }
}

/**
 * Builds the outputs of a chain's nodes: records pass to chained operators as direct calls with
 * the same object (no copy, no serialization) and to other vertices through record writers.
 */
export function buildChainOutputs(
  vertex: JobVertex,
  operators: Map<number, StreamOperator<unknown, unknown>>,
  writers: Map<string, RecordWriter>,
  metricsOf: (nodeId: number) => {
    numRecordsIn: number;
    numRecordsOut: number;
    currentOutputWatermark: number;
  },
): Map<number, Output<unknown>> {
  const outputs = new Map<number, Output<unknown>>();
  const inChain = new Set(vertex.nodes.map((n: StreamNode) => n.id));
  for (const node of vertex.nodes) {
    const main: Target[] = [];
    const side = new Map<string, Target[]>();
    for (const edge of node.outEdges) {
      const target: Target = inChain.has(edge.target.id)
        ? new ChainedTarget(operators.get(edge.target.id)!, metricsOf(edge.target.id))
        : new NetworkTarget(writers.get(edge.id)!);
      if (edge.sideOutputTag === undefined) {
        main.push(target);
      } else {
        const list = side.get(edge.sideOutputTag) ?? [];
        list.push(target);
        side.set(edge.sideOutputTag, list);
      }
    }
    outputs.set(node.id, new ChainOutput(main, side, metricsOf(node.id)));
  }
  return outputs;
}
