// Original file: proto/nimble/v1/taskmanager.proto


/**
 * Where a job slot runs: the TaskManager and its address.
 */
export interface SlotLocation {
  'jobSlot'?: (number);
  'resourceId'?: (string);
  'address'?: (string);
  /**
   * For a slot on another TaskManager: the secret of the data-exchange stream between that
   * TaskManager and the one deployed to (the JobManager derives one per pair of registrations).
   * The dialing side presents it in Exchange.Connect, the accepting side checks it.
   */
  'exchangeSecret'?: (string);
}

/**
 * Where a job slot runs: the TaskManager and its address.
 */
export interface SlotLocation__Output {
  'jobSlot': (number);
  'resourceId': (string);
  'address': (string);
  /**
   * For a slot on another TaskManager: the secret of the data-exchange stream between that
   * TaskManager and the one deployed to (the JobManager derives one per pair of registrations).
   * The dialing side presents it in Exchange.Connect, the accepting side checks it.
   */
  'exchangeSecret': (string);
}
