// Original file: proto/nimble/v1/taskmanager.proto


/**
 * Where a job slot runs: the TaskManager and its address.
 */
export interface SlotLocation {
  'jobSlot'?: (number);
  'resourceId'?: (string);
  'address'?: (string);
}

/**
 * Where a job slot runs: the TaskManager and its address.
 */
export interface SlotLocation__Output {
  'jobSlot': (number);
  'resourceId': (string);
  'address': (string);
}
