// Original file: proto/nimble/v1/jobmanager.proto


export interface SubmitJobRequest {
  'jobName'?: (string);
  /**
   * The job module bundled as one ES module.
   */
  'bundle'?: (Buffer | Uint8Array | string);
  /**
   * The job graph as the client built it (describeJobGraph), JSON.
   */
  'planJson'?: (string);
  'graphDigest'?: (string);
  'configuration'?: ({[key: string]: string});
  'programArgs'?: (string)[];
  /**
   * Restore from this savepoint or retained checkpoint (its directory or its _metadata).
   */
  'savepointPath'?: (string);
  'allowNonRestoredState'?: (boolean);
}

export interface SubmitJobRequest__Output {
  'jobName': (string);
  /**
   * The job module bundled as one ES module.
   */
  'bundle': (Buffer);
  /**
   * The job graph as the client built it (describeJobGraph), JSON.
   */
  'planJson': (string);
  'graphDigest': (string);
  'configuration': ({[key: string]: string});
  'programArgs': (string)[];
  /**
   * Restore from this savepoint or retained checkpoint (its directory or its _metadata).
   */
  'savepointPath': (string);
  'allowNonRestoredState': (boolean);
}
