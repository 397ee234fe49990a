// The public surface of the keyed state backends: every export is named here.
export { createKeyedStateBackend } from './keyed-state-backend.js';
export type {
  KeyedSnapshotKind,
  KeyedStateBackend,
  KeyedStateBackendOptions,
  KeyedStateSnapshot,
  KeyGroupStateBlock,
  NamespacedState,
  PendingKeyedStateApplication,
  SnapshotFormat,
  StateBackendKind,
} from './keyed-state-backend.js';
export { CorruptedSnapshotError, StateBackendError } from './state-backend-error.js';
