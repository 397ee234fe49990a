export { DataGeneratorSource } from './data-generator-source.js';
export type {
  DataGeneratorOptions,
  GeneratorFunction,
  NumberSequenceSplit,
} from './data-generator-source.js';
