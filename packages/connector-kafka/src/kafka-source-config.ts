import type { KafkaProperties } from './client.js';
import type { KafkaOffsetsInitializer as Initializer } from './offsets-initializer.js';
import type { DeserializationSchema, KafkaRecordDeserializationSchema } from './schemas.js';

/** The settings a built source carries (read by the reader and the enumerator). */
export interface KafkaSourceConfig<T> {
  readonly properties: KafkaProperties;
  readonly topics: readonly string[] | undefined;
  readonly topicPattern: RegExp | undefined;
  readonly groupId: string | undefined;
  readonly startingOffsets: Initializer;
  readonly stoppingOffsets: Initializer | undefined;
  /** How records become elements: their value only, or the whole record. */
  readonly deserializer:
    | { readonly kind: 'value'; readonly schema: DeserializationSchema<T> }
    | { readonly kind: 'record'; readonly schema: KafkaRecordDeserializationSchema<T> };
  readonly discoveryIntervalMs: number;
  readonly readCommitted: boolean;
}
