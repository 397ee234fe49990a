// Original file: proto/nimble/v1/jobmanager.proto


export interface JobResult {
  'netRuntimeMs'?: (number | string);
  /**
   * V8-serialized values of each executeAndCollect() sink, by collect id.
   */
  'collected'?: ({[key: string]: Buffer | Uint8Array | string});
}

export interface JobResult__Output {
  'netRuntimeMs': (number);
  /**
   * V8-serialized values of each executeAndCollect() sink, by collect id.
   */
  'collected': ({[key: string]: Buffer});
}
