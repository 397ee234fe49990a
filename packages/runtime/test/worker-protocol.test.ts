// Errors cross from slot workers to the TaskManager as plain data; what restart decisions read
// (the failure domain) must survive the trip.
import { describe, expect, it } from 'vitest';
import { NimbleError, UserCodeError } from '../src/errors.js';
import { deserializeError, serializeError } from '../src/executor/worker-protocol.js';

describe('errors between threads', () => {
  it('keep name, message, stack and the failure domain of a NimbleError', () => {
    const external = new NimbleError('profile service unreachable', 'external');
    const back = deserializeError(structuredClone(serializeError(external)));
    expect(back).toBeInstanceOf(NimbleError);
    expect((back as NimbleError).domain).toBe('external');
    expect(back.message).toBe('profile service unreachable');
    expect(back.stack).toBe(external.stack);

    const user = deserializeError(
      serializeError(new UserCodeError('Map (1/2)', 'boom', undefined)),
    );
    expect(user.name).toBe('UserCodeError');
    expect((user as NimbleError).domain).toBe('user');
  });

  it('a plain Error stays a plain Error, without a domain', () => {
    const back = deserializeError(serializeError(new RangeError('bad')));
    expect(back).not.toBeInstanceOf(NimbleError);
    expect(back.name).toBe('RangeError');
  });
});
