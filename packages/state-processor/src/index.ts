// The public surface of @nimble/state-processor: every export is named here.
export { OperatorIdentifier } from './operator-identifier.js';
export { StateProcessorError } from './errors.js';
export { KeyedStateBootstrapFunction, KeyedStateReaderFunction } from './functions.js';
export type { KeyedStateBootstrapContext, KeyedStateReaderContext } from './functions.js';
export {
  BootstrapTransformation,
  KeyedOperatorTransformation,
  OneInputOperatorTransformation,
  OperatorTransformation,
} from './operator-transformation.js';
export { SavepointWriter } from './savepoint-writer.js';
export type { NewSavepointOptions } from './savepoint-writer.js';
export { SavepointReader } from './savepoint-reader.js';
export type { KeyedStateEntry } from './state-entries-source.js';
