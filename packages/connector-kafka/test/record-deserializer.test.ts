import { describe, expect, it } from 'vitest';
import type { KafkaRecordDeserializationSchema } from '../src/index.js';
import { KafkaSource, SimpleStringSchema } from '../src/index.js';

describe('KafkaSourceBuilder deserializers', () => {
  it('takes a record deserializer', () => {
    const schema: KafkaRecordDeserializationSchema<string> = {
      deserialize: (record, out) =>
        out.collect(`${record.topic}/${record.partition}@${record.offset}`),
    };
    const source = KafkaSource.builder<string>()
      .setBootstrapServers('127.0.0.1:9092')
      .setTopics('t')
      .setDeserializer(schema)
      .build();
    expect(source.config.deserializer).toEqual({ kind: 'record', schema });
  });

  it('keeps value-only deserializers working', () => {
    const schema = new SimpleStringSchema();
    const source = KafkaSource.builder<string>()
      .setBootstrapServers('127.0.0.1:9092')
      .setTopics('t')
      .setValueOnlyDeserializer(schema)
      .build();
    expect(source.config.deserializer).toEqual({ kind: 'value', schema });
  });

  it('rejects what is not a record deserializer', () => {
    expect(() =>
      KafkaSource.builder<string>().setDeserializer({} as KafkaRecordDeserializationSchema<string>),
    ).toThrow('KafkaSource.setDeserializer: expected a KafkaRecordDeserializationSchema');
  });
});
