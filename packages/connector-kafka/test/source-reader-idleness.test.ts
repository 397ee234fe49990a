// A Kafka source reader without partitions, e.g. before the enumerator's first assignment reaches
// it, does not mark its subtask idle by itself (Flink's Kafka source: "does not go automatically
// in an idle state"). An idle subtask no longer holds the downstream watermark back, so the
// records of partitions assigned to it a moment later would be late.
import type { ReaderOutput, SourceReaderContext } from '@nimble/api';
import { InputStatus } from '@nimble/api';
import { describe, expect, it } from 'vitest';
import { KafkaSource, SimpleStringSchema } from '../src/index.js';

function readerOutput(): { output: ReaderOutput<string>; idle: number } {
  const seen = { idle: 0 };
  const output: ReaderOutput<string> = {
    collect: () => {},
    collectSide: () => {},
    createOutputForSplit: () => ({ collect: () => {} }),
    releaseOutputForSplit: () => {},
    markIdle: () => {
      seen.idle++;
    },
  };
  return {
    output,
    get idle() {
      return seen.idle;
    },
  };
}

const context: SourceReaderContext = {
  getIndexOfSubtask: () => 0,
  getParallelism: () => 2,
  currentProcessingTime: () => Date.now(),
  metricGroup: () => ({ gauge: () => {}, removeGauge: () => {} }),
};

describe('KafkaSourceReader without partitions', () => {
  it('reports nothing available and leaves idleness to the watermark strategy', async () => {
    const source = KafkaSource.builder<string>()
      .setBootstrapServers('127.0.0.1:9')
      .setTopics('t')
      .setValueOnlyDeserializer(new SimpleStringSchema())
      .build();
    const reader = source.createReader(context);
    reader.start();
    const out = readerOutput();
    expect(reader.pollNext(out.output)).toBe(InputStatus.NOTHING_AVAILABLE);
    expect(reader.pollNext(out.output)).toBe(InputStatus.NOTHING_AVAILABLE);
    expect(out.idle).toBe(0);
    // Told it gets no partitions at all (a bounded source), it ends.
    reader.notifyNoMoreSplits();
    expect(reader.pollNext(out.output)).toBe(InputStatus.END_OF_INPUT);
    await reader.close();
  });
});
