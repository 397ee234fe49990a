import { describe, expect, it } from 'vitest';
import { CommandError } from '../src/commands.js';
import { parseKey } from '../src/savepoint-inspect.js';

describe('savepoint inspect --key', () => {
  it('reads the key as --key-type says', () => {
    expect(parseKey('42')).toBe('42');
    expect(parseKey('42', 'number')).toBe(42);
    expect(parseKey('-0.5', 'number')).toBe(-0.5);
    expect(parseKey('12345678901234567890', 'bigint')).toBe(12345678901234567890n);
    expect(parseKey('false', 'boolean')).toBe(false);
    expect(parseKey('["tenant",3,[true]]', 'json')).toEqual(['tenant', 3, [true]]);
    expect(parseKey('"u1"', 'json')).toBe('u1');
  });

  it('refuses a key that is not of its type, with exit code 2', () => {
    const cases: [string, string, string][] = [
      ['', 'number', 'not a finite number'],
      ['1e999', 'number', 'not a finite number'],
      ['1.5', 'bigint', 'not an integer'],
      ['', 'bigint', 'not an integer'],
      ['yes', 'boolean', 'expected true or false'],
      ['{"a":1}', 'json', 'a JSON key is a string, a finite number, a boolean or an array of them'],
      ['[1,', 'json', 'not JSON'],
    ];
    for (const [text, type, message] of cases) {
      let error: unknown;
      try {
        parseKey(text, type);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CommandError);
      expect((error as CommandError).exitCode).toBe(2);
      expect((error as Error).message).toContain(message);
    }
  });
});
