// Original file: proto/nimble/v1/common.proto


/**
 * A failure record: an error that crossed a thread or a process, unchanged from where it was
 * raised (the slot worker) through the TaskManager to the JobMaster. Restart, restore and
 * checkpoint decisions read its fields, never its message.
 */
export interface SerializedError {
  /**
   * The error's class name, e.g. "StateFileCorruptedError".
   */
  'name'?: (string);
  'message'?: (string);
  'stack'?: (string);
  /**
   * "user", "external" or "internal": whether a restart may help.
   */
  'domain'?: (string);
  /**
   * False when the failure came from reading the checkpoint the attempt restored from (a
   * corrupted or missing state file, unreadable _metadata): restoring it again fails the same
   * way, so recovery falls back to the checkpoint before. Always set by the sender.
   */
  'restorable'?: (boolean);
}

/**
 * A failure record: an error that crossed a thread or a process, unchanged from where it was
 * raised (the slot worker) through the TaskManager to the JobMaster. Restart, restore and
 * checkpoint decisions read its fields, never its message.
 */
export interface SerializedError__Output {
  /**
   * The error's class name, e.g. "StateFileCorruptedError".
   */
  'name': (string);
  'message': (string);
  'stack': (string);
  /**
   * "user", "external" or "internal": whether a restart may help.
   */
  'domain': (string);
  /**
   * False when the failure came from reading the checkpoint the attempt restored from (a
   * corrupted or missing state file, unreadable _metadata): restoring it again fails the same
   * way, so recovery falls back to the checkpoint before. Always set by the sender.
   */
  'restorable': (boolean);
}
