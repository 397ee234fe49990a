// Errors cross from slot workers to the TaskManager as their failure records; what restart
// decisions read (the failure domain, whether the restored checkpoint can be restored again)
// must survive the trip unchanged.
import { describe, expect, it } from 'vitest';
import { StateFileCorruptedError } from '../src/checkpoint/keyed-state-file.js';
import {
  failureRecordOf,
  NimbleError,
  parseFailureRecord,
  RemoteFailure,
  userCodeFailure,
  UserCodeError,
} from '../src/errors.js';
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

  it('an error Nimble did not classify counts as user code', () => {
    const back = deserializeError(serializeError(new RangeError('bad')));
    expect(back.name).toBe('RangeError');
    expect(failureRecordOf(back)).toMatchObject({ domain: 'user', restorable: true });
  });

  it('a corrupted state file anywhere on the cause chain makes the failure not restorable', () => {
    const corrupted = new StateFileCorruptedError('State file file:///x/chk-3/a is corrupted');
    const wrapped = userCodeFailure('Reduce (1/2)', corrupted);
    const record = failureRecordOf(wrapped);
    expect(record).toMatchObject({ name: 'UserCodeError', domain: 'user', restorable: false });
    expect(failureRecordOf(new NimbleError('x', 'internal', { cause: wrapped })).restorable).toBe(
      false,
    );
  });

  it('a record travels unchanged: worker, TaskManager, JobMaster', () => {
    const original = failureRecordOf(
      new NimbleError('broker gone', 'external', { cause: new Error('ECONNREFUSED') }),
    );
    // Worker -> TaskManager (postMessage clones), TaskManager -> JobMaster (wire shape).
    const atTaskManager = deserializeError(
      structuredClone(serializeError(new RemoteFailure(original))),
    );
    const atJobMaster = new RemoteFailure(
      parseFailureRecord(structuredClone(failureRecordOf(atTaskManager))),
    );
    expect(failureRecordOf(atJobMaster)).toEqual(original);
    expect(atJobMaster.name).toBe('NimbleError');
    expect(atJobMaster.domain).toBe('external');
  });

  it('a record with an unknown domain or no name is refused, naming the field', () => {
    const base = { name: 'E', message: 'm', stack: '', domain: 'user', restorable: true };
    expect(() => parseFailureRecord({ ...base, domain: 'cosmic' })).toThrow(/domain "cosmic"/);
    expect(() => parseFailureRecord({ ...base, name: '' })).toThrow(/name is empty/);
  });
});
