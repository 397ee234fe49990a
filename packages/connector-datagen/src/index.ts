/**
 * Generated records: Flink's DataGeneratorSource for Nimble.
 *
 * @packageDocumentation
 * @module @nimble/connector-datagen
 */
export { DataGeneratorSource } from './data-generator-source.js';
export type {
  DataGeneratorOptions,
  GeneratorFunction,
  NumberSequenceSplit,
} from './data-generator-source.js';
