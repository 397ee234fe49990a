// Original file: proto/nimble/v1/jobmanager.proto


export interface KeyedStateFile {
  /**
   * Relative to the checkpoint's directory (`../shared/<file>` for shared incremental files);
   * the JobManager refuses a path that leaves the checkpoint's directories.
   */
  'path'?: (string);
  /**
   * "canonical", "level-full" or "level-delta".
   */
  'kind'?: (string);
  'size'?: (number | string);
  /**
   * One more entry than key groups: where each key group's block starts, then the end.
   */
  'offsets'?: (number | string)[];
}

export interface KeyedStateFile__Output {
  /**
   * Relative to the checkpoint's directory (`../shared/<file>` for shared incremental files);
   * the JobManager refuses a path that leaves the checkpoint's directories.
   */
  'path': (string);
  /**
   * "canonical", "level-full" or "level-delta".
   */
  'kind': (string);
  'size': (number);
  /**
   * One more entry than key groups: where each key group's block starts, then the end.
   */
  'offsets': (number)[];
}
