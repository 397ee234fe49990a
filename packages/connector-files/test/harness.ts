// Drives sources and sinks the way the runtime does, in-process, for the unit tests and the bench.
import type {
  ReaderOutput,
  SinkWriterContext,
  Source,
  SourceReader,
  SourceSplit,
  SplitEnumerator,
} from '@nimble/api';
import { InputStatus } from '@nimble/api';

export function collectingOutput<T>(out: T[]): ReaderOutput<T> {
  const o: ReaderOutput<T> = {
    collect: (r) => {
      out.push(r);
    },
    collectSide: () => {},
    createOutputForSplit: () => o,
    releaseOutputForSplit: () => {},
    markIdle: () => {},
  };
  return o;
}

export interface Running<T, S extends SourceSplit, E> {
  readonly enumerator: SplitEnumerator<S, E>;
  readonly readers: SourceReader<T, S>[];
  readonly outputs: T[][];
  /** Polls until every reader ended (bounded) or `until` holds. */
  run(until?: () => boolean, maxPolls?: number): Promise<void>;
}

/** Starts a source at parallelism `p`, from enumerator state and reader splits if given. */
export async function startSource<T, S extends SourceSplit, E>(
  source: Source<T, S, E>,
  p: number,
  restored?: { enumerator: E; splits: S[][] },
): Promise<Running<T, S, E>> {
  const readers: SourceReader<T, S>[] = [];
  const outputs: T[][] = [];
  const context = {
    currentParallelism: () => p,
    assignSplits: (subtask: number, splits: S[]) => readers[subtask]!.addSplits(splits),
    signalNoMoreSplits: (subtask: number) => readers[subtask]!.notifyNoMoreSplits(),
  };
  const enumerator = restored
    ? source.restoreEnumerator(context, restored.enumerator)
    : source.createEnumerator(context);
  await enumerator.start();
  for (let i = 0; i < p; i++) {
    const r = source.createReader({
      getIndexOfSubtask: () => i,
      getParallelism: () => p,
      currentProcessingTime: () => Date.now(),
      metricGroup: () => ({ gauge: () => {}, removeGauge: () => {} }),
    });
    readers.push(r);
    outputs.push([]);
    r.start();
    const mine = restored?.splits[i];
    if (mine && mine.length > 0) r.addSplits(mine);
  }
  for (let i = 0; i < p; i++) enumerator.addReader(i);
  const ended = new Set<number>();
  return {
    enumerator,
    readers,
    outputs,
    async run(until, maxPolls = Infinity) {
      let polls = 0;
      while (ended.size < p && !(until?.() ?? false) && polls < maxPolls) {
        let progressed = false;
        for (let i = 0; i < p; i++) {
          if (ended.has(i)) continue;
          const s = readers[i]!.pollNext(collectingOutput(outputs[i]!));
          polls++;
          if (s === InputStatus.END_OF_INPUT) ended.add(i);
          else if (s === InputStatus.MORE_AVAILABLE) progressed = true;
          if (until?.() || polls >= maxPolls) return;
        }
        if (!progressed && ended.size < p) {
          await Promise.race(readers.filter((_, i) => !ended.has(i)).map((r) => r.isAvailable()));
        }
      }
    },
  };
}

export function writerContext(timestamp?: () => number | undefined): SinkWriterContext {
  return { timestamp: timestamp ?? (() => undefined), currentWatermark: () => 0 };
}

export function initContext(subtask: number, p: number) {
  return {
    getSubtaskId: () => subtask,
    getNumberOfParallelSubtasks: () => p,
    getAttemptNumber: () => 0,
    getRestoredCheckpointId: () => undefined,
  };
}
