// The public surface of the keyed state backends: every export is named here.
export { createKeyedStateBackend } from './create-keyed-state-backend.js';
export type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  KeyedStateSnapshot,
  KeyGroupStateBlock,
  NamespacedState,
  PendingKeyedStateApplication,
  SnapshotFormat,
} from './keyed-state-backend.js';
export type { KeyedStateBackendOptions, StateBackendKind } from './keyed-state-backend-options.js';
export { CorruptedSnapshotError, StateBackendError } from './state-backend-error.js';
export {
  queriedValueOf,
  QueryableStateUnavailableError,
  UnknownQueryableStateError,
} from './queryable-state.js';
export type { QueriedValue, QueryableStateRegistration } from './queryable-state.js';
