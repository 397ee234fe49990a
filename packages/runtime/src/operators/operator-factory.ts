import type { BuiltinSink, Sink, TwoInputOperatorSpec } from '@nimble/api';
import { OneInputTransformation, SinkTransformation, TwoInputTransformation } from '@nimble/api';
import type { StreamNode } from '../graph/job-graph.js';
import {
  FilterOperator,
  FlatMapOperator,
  KeyedAggregationOperator,
  KeyedReduceOperator,
  MapOperator,
  ProcessOperator,
} from './basic-operators.js';
import { copyUserObject } from '../util/copy-user-object.js';
import { AsyncWaitOperator } from './async-wait-operator.js';
import { CoFlatMapOperator, CoMapOperator, CoProcessOperator } from './co-operators.js';
import {
  CoBroadcastWithKeyedOperator,
  CoBroadcastWithNonKeyedOperator,
} from './broadcast-operators.js';
import { IntervalJoinOperator } from './interval-join-operator.js';
import type { AbstractStreamOperator, StreamOperator, TwoInputStreamOperator } from './operator.js';
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
  /**
   * Several subtasks of a vertex run on this thread (the single-thread local executor): each
   * subtask after the first gets a deep copy of the user's function objects, as Flink gives each
   * parallel instance its own by serialization.
   */
  readonly copyUserFunctions?: boolean;
  /** `execution.buffer-timeout`: how long a sink may hold output it batches (0 = one batch). */
  readonly bufferTimeoutMs: number;
  /** `execution.window.aligned-fast-path`: aligned windows run on the AlignedWindowOperator. */
  readonly alignedWindows?: boolean;
}

/** Builds the operator of a (non-source) stream node from the user's specification. */
export function createOperator(
  node: StreamNode,
  services: OperatorServices,
  subtaskIndex: number,
): AbstractStreamOperator<unknown> {
  const t = node.transformation;
  const own = <S>(spec: S): S =>
    services.copyUserFunctions && subtaskIndex > 0 ? copyUserObject(spec) : spec;
  if (t instanceof TwoInputTransformation) return createTwoInputOperator(node, own(t.operator));
  let op: StreamOperator<unknown, unknown>;
  if (t instanceof SinkTransformation) {
    op = createSinkOperator(t.sink, services) as StreamOperator<unknown, unknown>;
  } else if (t instanceof OneInputTransformation) {
    const spec = own(t.operator);
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
        op = createWindowOperator(spec, { aligned: services.alignedWindows ?? true });
        break;
      case 'asyncWait':
        op = new AsyncWaitOperator(spec);
        break;
    }
  } else {
    throw new Error(`internal: ${node.name} is a source, not an operator`);
  }
  op.keySelector = node.stateKeySelector;
  return op;
}

function createTwoInputOperator(
  node: StreamNode,
  spec: TwoInputOperatorSpec,
): TwoInputStreamOperator<unknown, unknown, unknown> {
  let op: TwoInputStreamOperator<unknown, unknown, unknown>;
  switch (spec.kind) {
    case 'coMap':
      op = new CoMapOperator(spec.fn);
      break;
    case 'coFlatMap':
      op = new CoFlatMapOperator(spec.fn);
      break;
    case 'coProcess':
      op = new CoProcessOperator(spec.fn, node.keyed);
      break;
    case 'keyedCoProcess':
      op = new CoProcessOperator(spec.fn, true);
      break;
    case 'broadcastProcess':
      op = new CoBroadcastWithNonKeyedOperator(spec.fn, spec.broadcastStateDescriptors);
      break;
    case 'keyedBroadcastProcess':
      op = new CoBroadcastWithKeyedOperator(spec.fn, spec.broadcastStateDescriptors);
      break;
    case 'intervalJoin':
      op = new IntervalJoinOperator(spec);
      break;
  }
  op.keySelector1 = node.stateKeySelector;
  op.keySelector2 = node.stateKeySelector2;
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
