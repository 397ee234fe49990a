import type { BuiltinSink, Sink } from '@nimble/api';
import { OneInputTransformation, SinkTransformation } from '@nimble/api';
import type { StreamNode } from '../graph/job-graph.js';
import {
  FilterOperator,
  FlatMapOperator,
  KeyedAggregationOperator,
  KeyedReduceOperator,
  MapOperator,
  ProcessOperator,
} from './basic-operators.js';
import type { StreamOperator } from './operator.js';
import type { CollectTarget } from './sink-operators.js';
import { CollectSinkOperator, PrintSinkOperator, SinkWriterOperator } from './sink-operators.js';
import { TimestampsAndWatermarksOperator } from './timestamps-operator.js';
import { createWindowOperator } from './window/window-operator.js';

/** What built-in operators need from the process that hosts the task. */
export interface OperatorServices {
  readonly collectTarget: CollectTarget;
  readonly writeStdout: (text: string) => void;
  readonly writeStderr: (text: string) => void;
  readonly autoWatermarkIntervalMs: number;
  /** `execution.buffer-timeout`: how long a sink may hold output it batches (0 = one batch). */
  readonly bufferTimeoutMs: number;
}

/** Builds the operator of a (non-source) stream node from the user's specification. */
export function createOperator(
  node: StreamNode,
  services: OperatorServices,
): StreamOperator<unknown, unknown> {
  const t = node.transformation;
  let op: StreamOperator<unknown, unknown>;
  if (t instanceof SinkTransformation) {
    op = createSinkOperator(t.sink, services) as StreamOperator<unknown, unknown>;
  } else if (t instanceof OneInputTransformation) {
    const spec = t.operator;
    switch (spec.kind) {
      case 'map':
        op = new MapOperator(spec.fn);
        break;
      case 'flatMap':
        op = new FlatMapOperator(spec.fn);
        break;
      case 'filter':
        op = new FilterOperator(spec.fn);
        break;
      case 'process':
        op = new ProcessOperator(spec.fn, t.keySelector !== undefined);
        break;
      case 'keyedProcess':
        op = new ProcessOperator(spec.fn, true);
        break;
      case 'keyedReduce':
        op = new KeyedReduceOperator(spec.fn);
        break;
      case 'keyedAggregation':
        op = new KeyedAggregationOperator(spec.aggregation);
        break;
      case 'timestampsAndWatermarks':
        op = new TimestampsAndWatermarksOperator(spec.strategy, services.autoWatermarkIntervalMs);
        break;
      case 'window':
        op = createWindowOperator(spec);
        break;
    }
  } else {
    throw new Error(`internal: ${node.name} is a source, not an operator`);
  }
  op.keySelector = node.stateKeySelector;
  return op;
}

function createSinkOperator(
  sink: Sink<unknown> | BuiltinSink,
  services: OperatorServices,
): StreamOperator<unknown, never> {
  if ('kind' in sink && (sink.kind === 'print' || sink.kind === 'collect')) {
    if (sink.kind === 'print') {
      return new PrintSinkOperator(
        sink.prefix,
        sink.stderr ? services.writeStderr : services.writeStdout,
        services.bufferTimeoutMs,
      );
    }
    return new CollectSinkOperator(sink.id, services.collectTarget);
  }
  return new SinkWriterOperator(sink as Sink<unknown>);
}
