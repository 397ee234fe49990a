import { describe, expect, it } from 'vitest';
import { RegistrationStatus } from '../src/registration-status.js';

describe('RegistrationStatus', () => {
  it('is unhealthy until registered, healthy while registered, unhealthy again once lost', () => {
    const status = new RegistrationStatus('tm-1', () => 'nimble-jobmanager:6123');
    expect(status.health()).toEqual({
      httpStatus: 503,
      report: { status: 'REGISTERING', resourceId: 'tm-1', jobmanager: 'nimble-jobmanager:6123' },
    });
    status.registered();
    expect(status.health()).toEqual({
      httpStatus: 200,
      report: { status: 'REGISTERED', resourceId: 'tm-1', jobmanager: 'nimble-jobmanager:6123' },
    });
    status.lost('lost the JobManager: the heartbeat stream ended');
    expect(status.health()).toMatchObject({
      httpStatus: 503,
      report: { status: 'REGISTERING', reason: 'lost the JobManager: the heartbeat stream ended' },
    });
    status.registered();
    expect(status.health().report).not.toHaveProperty('reason');
  });

  it('stays stopped: a late loss or registration does not revive it', () => {
    const status = new RegistrationStatus('tm-1', () => 'jm:6123');
    status.registered();
    status.stopped('the TaskManager is shutting down');
    status.lost('the heartbeat stream ended');
    status.registered();
    expect(status.state).toBe('STOPPED');
    expect(status.health()).toMatchObject({
      httpStatus: 503,
      report: { status: 'STOPPED', reason: 'the TaskManager is shutting down' },
    });
  });
});
