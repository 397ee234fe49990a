export {
  decodeKey,
  encodeKey,
  encodedKeyOfId,
  keyId,
  keyIdOfEncoded,
  keyProblem,
  InvalidKeyError,
  KEY_TAG,
} from './key-encoding.js';
export type { KeyId } from './key-encoding.js';
export { murmur3_32 } from './murmur3.js';
export {
  DEFAULT_MAX_PARALLELISM,
  UPPER_BOUND_MAX_PARALLELISM,
  KeyGroupRange,
  assignToKeyGroup,
  checkKey,
  checkParallelism,
  keyHash,
  operatorIndexForKeyGroup,
} from './key-groups.js';
