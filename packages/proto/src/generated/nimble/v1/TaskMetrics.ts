// Original file: proto/nimble/v1/common.proto


/**
 * One subtask's counters, as the TaskManager last sampled them.
 */
export interface TaskMetrics {
  'vertexId'?: (number);
  'subtask'?: (number);
  'numRecordsIn'?: (number | string);
  'numRecordsOut'?: (number | string);
  /**
   * Long.MIN_VALUE-like sentinel (-9007199254740991) until a watermark arrived.
   */
  'currentInputWatermark'?: (number | string);
  'numLateRecordsDropped'?: (number | string);
  'backPressuredTimeMsPerSecond'?: (number | string);
  'numRecordsInPerSecond'?: (number | string);
  'numRecordsOutPerSecond'?: (number | string);
  /**
   * Flink's task IO metrics: ms per second idle (waiting for input) and busy
   * (1000 - idle - backpressured), and bytes of network buffers in and out.
   */
  'busyTimeMsPerSecond'?: (number | string);
  'idleTimeMsPerSecond'?: (number | string);
  'numBytesIn'?: (number | string);
  'numBytesOut'?: (number | string);
  'numBytesInPerSecond'?: (number | string);
  'numBytesOutPerSecond'?: (number | string);
}

/**
 * One subtask's counters, as the TaskManager last sampled them.
 */
export interface TaskMetrics__Output {
  'vertexId': (number);
  'subtask': (number);
  'numRecordsIn': (number);
  'numRecordsOut': (number);
  /**
   * Long.MIN_VALUE-like sentinel (-9007199254740991) until a watermark arrived.
   */
  'currentInputWatermark': (number);
  'numLateRecordsDropped': (number);
  'backPressuredTimeMsPerSecond': (number);
  'numRecordsInPerSecond': (number);
  'numRecordsOutPerSecond': (number);
  /**
   * Flink's task IO metrics: ms per second idle (waiting for input) and busy
   * (1000 - idle - backpressured), and bytes of network buffers in and out.
   */
  'busyTimeMsPerSecond': (number);
  'idleTimeMsPerSecond': (number);
  'numBytesIn': (number);
  'numBytesOut': (number);
  'numBytesInPerSecond': (number);
  'numBytesOutPerSecond': (number);
}
