// The public surface of @nimble/test-utils: testing jobs and functions (docs/testing.md).
export {
  KeyedOneInputStreamOperatorTestHarness,
  OneInputStreamOperatorTestHarness,
  ProcessFunctionTestHarnesses,
} from './operator-harness.js';
export type {
  HarnessOptions,
  OperatorSnapshot,
  OutputElement,
  StreamRecord,
  Watermark,
} from './operator-harness.js';
export { fromTimedElements, MiniCluster, record, watermark } from './mini-cluster.js';
export type {
  CollectedStream,
  MiniClusterOptions,
  TimedElement,
  Watermarked,
} from './mini-cluster.js';
export { fromManualSource, ManualSource } from './manual-source.js';
// The manual clock a MiniCluster or a harness runs on.
export { ManualProcessingTimeService } from '@nimble/runtime';
