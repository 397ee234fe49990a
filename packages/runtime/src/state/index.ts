// The public surface of the keyed state backends: every export is named here.
export { createKeyedStateBackend } from './keyed-state-backend.js';
export type {
  KeyedStateBackend,
  KeyedStateBackendOptions,
  NamespacedState,
  StateBackendKind,
} from './keyed-state-backend.js';
export { StateBackendError } from './state-backend-error.js';
