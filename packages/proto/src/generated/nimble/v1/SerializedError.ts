// Original file: proto/nimble/v1/common.proto


/**
 * An error that crossed a process: its class name, message, stack and failure domain
 * ("user", "external" or "internal": decides whether a restart may help).
 */
export interface SerializedError {
  'name'?: (string);
  'message'?: (string);
  'stack'?: (string);
  'domain'?: (string);
}

/**
 * An error that crossed a process: its class name, message, stack and failure domain
 * ("user", "external" or "internal": decides whether a restart may help).
 */
export interface SerializedError__Output {
  'name': (string);
  'message': (string);
  'stack': (string);
  'domain': (string);
}
