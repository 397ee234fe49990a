import { HeapKeyedStateBackend } from './heap-keyed-state-backend.js';
import type { KeyedStateBackend } from './keyed-state-backend.js';
import type { KeyedStateBackendOptions } from './keyed-state-backend-options.js';
import { compileKeyedStateBackendOptions } from './keyed-state-backend-options.js';
import { LevelKeyedStateBackend } from './level-keyed-state-backend.js';

/** A keyed state backend of `options.kind`; call `open()` before use. */
export function createKeyedStateBackend(options: KeyedStateBackendOptions): KeyedStateBackend {
  const compiled = compileKeyedStateBackendOptions(options);
  switch (compiled.kind) {
    case 'hashmap':
      return new HeapKeyedStateBackend(compiled);
    case 'level':
      return new LevelKeyedStateBackend(compiled);
  }
}
