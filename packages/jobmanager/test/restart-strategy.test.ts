import type { ConfigValue } from '@nimble/api';
import { IllegalStateError, parseClusterConfiguration } from '@nimble/runtime';
import { describe, expect, it } from 'vitest';
import type { RestartStrategy } from '../src/restart-strategy.js';
import { createRestartStrategy } from '../src/restart-strategy.js';

const failure = new Error('task failed');

function strategy(
  entries: Record<string, ConfigValue>,
  options: { checkpointingEnabled?: boolean; random?: () => number } = {},
): RestartStrategy {
  return createRestartStrategy(parseClusterConfiguration(entries), {
    checkpointingEnabled: options.checkpointingEnabled ?? false,
    random: options.random,
  });
}

/** Reports a failure at `now`; returns [canRestart, backoff]. */
function fail(s: RestartStrategy, now: number): [boolean, number] {
  s.notifyFailure(failure, now);
  return [s.canRestart(), s.backoffTimeMs()];
}

describe('default restart strategy (restart-strategy.type unset)', () => {
  it('is none without checkpointing: the first failure fails the job', () => {
    const s = strategy({});
    expect(s.description).toBe('none');
    expect(fail(s, 0)).toEqual([false, 0]);
  });

  it('is exponential-delay with its defaults when checkpointing is enabled', () => {
    const s = strategy({}, { checkpointingEnabled: true, random: () => 0.5 });
    expect(s.description).toBe(
      'exponential-delay (initial backoff: 1000 ms, max backoff: 60000 ms, multiplier: 1.5, ' +
        'reset threshold: 3600000 ms, jitter: 0.1, attempts before reset: unbounded)',
    );
    expect(fail(s, 0)).toEqual([true, 1000]);
    expect(fail(s, 1001)).toEqual([true, 1500]);
  });

  it('a configured type wins over the checkpointing default', () => {
    expect(
      strategy({ 'restart-strategy.type': 'off' }, { checkpointingEnabled: true }).description,
    ).toBe('none');
    expect(strategy({ 'restart-strategy.type': 'FixedDelay' }).description).toBe(
      'fixed-delay (attempts: 1, delay: 1000 ms)',
    );
  });
});

describe('fixed-delay', () => {
  it('defaults to one restart after 1 s', () => {
    const s = strategy({ 'restart-strategy.type': 'fixed-delay' });
    expect(fail(s, 0)).toEqual([true, 1000]);
    expect(fail(s, 5000)).toEqual([false, 1000]);
  });

  it('restarts at most `attempts` times over the whole life of the job, after `delay`', () => {
    const s = strategy({
      'restart-strategy.type': 'fixeddelay',
      'restart-strategy.fixed-delay.attempts': 3,
      'restart-strategy.fixed-delay.delay': '10 s',
    });
    expect(s.description).toBe('fixed-delay (attempts: 3, delay: 10000 ms)');
    expect(fail(s, 0)).toEqual([true, 10_000]);
    expect(fail(s, 100_000)).toEqual([true, 10_000]);
    // Failures far apart still count: fixed-delay never forgets.
    expect(fail(s, 100_000_000)).toEqual([true, 10_000]);
    expect(fail(s, 200_000_000)).toEqual([false, 10_000]);
  });

  it('with 0 attempts never restarts', () => {
    const s = strategy({
      'restart-strategy.type': 'fixed-delay',
      'restart-strategy.fixed-delay.attempts': 0,
    });
    expect(fail(s, 0)).toEqual([false, 1000]);
  });
});

describe('failure-rate', () => {
  it('defaults to at most one failure per minute, restarting after 1 s', () => {
    const s = strategy({ 'restart-strategy.type': 'failure-rate' });
    expect(s.description).toBe(
      'failure-rate (max failures per interval: 1, interval: 60000 ms, delay: 1000 ms)',
    );
    expect(fail(s, 0)).toEqual([true, 1000]);
    expect(fail(s, 60_001)).toEqual([true, 1000]);
    expect(fail(s, 120_001)).toEqual([false, 1000]);
  });

  it('fails the job once more than max failures fall within the interval', () => {
    const entries = {
      'restart-strategy.type': 'FailureRate',
      'restart-strategy.failure-rate.max-failures-per-interval': 2,
      'restart-strategy.failure-rate.failure-rate-interval': '1 min',
      'restart-strategy.failure-rate.delay': '5 s',
    };
    const burst = strategy(entries);
    expect(fail(burst, 0)).toEqual([true, 5000]);
    expect(fail(burst, 10_000)).toEqual([true, 5000]);
    expect(fail(burst, 20_000)).toEqual([false, 5000]);

    const spread = strategy(entries);
    expect(fail(spread, 0)[0]).toBe(true);
    expect(fail(spread, 10_000)[0]).toBe(true);
    expect(fail(spread, 60_001)[0]).toBe(true); // 0 is more than an interval ago
    expect(fail(spread, 70_001)[0]).toBe(true); // so is 10 000
    expect(fail(spread, 70_002)[0]).toBe(false); // 60 001, 70 001 and 70 002 within one minute
  });

  it('counts a failure exactly one interval after the oldest as within the interval', () => {
    const s = strategy({ 'restart-strategy.type': 'failure-rate' });
    expect(fail(s, 0)[0]).toBe(true);
    expect(fail(s, 60_000)[0]).toBe(false);
  });
});

describe('exponential-delay', () => {
  const noJitter = {
    'restart-strategy.type': 'exponential-delay',
    'restart-strategy.exponential-delay.jitter-factor': 0,
  };

  it('multiplies the backoff by 1.5 per restart up to 1 min', () => {
    const s = strategy(noJitter);
    const backoffs: number[] = [];
    let now = 0;
    for (let i = 0; i < 13; i++) {
      const [canRestart, backoff] = fail(s, now);
      expect(canRestart).toBe(true);
      backoffs.push(backoff);
      now += backoff + 1; // the next failure comes right after the restart
    }
    expect(backoffs).toEqual([
      1000, 1500, 2250, 3375, 5062, 7593, 11_390, 17_085, 25_628, 38_443, 57_665, 60_000, 60_000,
    ]);
  });

  it('merges failures that arrive while a restart is pending into that restart', () => {
    const s = strategy({
      ...noJitter,
      'restart-strategy.exponential-delay.attempts-before-reset-backoff': 2,
    });
    expect(fail(s, 0)).toEqual([true, 1000]);
    // Another task of the same job fails before the restart at 1000: same attempt, less to wait.
    expect(fail(s, 400)).toEqual([true, 600]);
    expect(fail(s, 1000)).toEqual([true, 0]);
    expect(fail(s, 1001)).toEqual([true, 1500]);
    expect(fail(s, 2502)).toEqual([false, 2250]);
  });

  it('starts again from the initial backoff after reset-backoff-threshold without failure', () => {
    const s = strategy({
      ...noJitter,
      'restart-strategy.exponential-delay.reset-backoff-threshold': '10 min',
      'restart-strategy.exponential-delay.attempts-before-reset-backoff': 2,
    });
    expect(fail(s, 0)).toEqual([true, 1000]); // restart at 1000
    expect(fail(s, 1000 + 600_000 - 1)).toEqual([true, 1500]); // just below the threshold
    const restartedAt = 1000 + 600_000 - 1 + 1500;
    expect(fail(s, restartedAt + 1)).toEqual([false, 2250]); // third attempt: over the bound
    // A failure-free threshold resets both the backoff and the attempt count.
    const s2 = strategy({
      ...noJitter,
      'restart-strategy.exponential-delay.reset-backoff-threshold': '10 min',
      'restart-strategy.exponential-delay.attempts-before-reset-backoff': 2,
    });
    fail(s2, 0); // restart at 1000
    fail(s2, 1001); // restart at 2501
    const quietUntil = 2501 + 600_000;
    expect(fail(s2, quietUntil)).toEqual([true, 1000]);
    expect(fail(s2, quietUntil + 1001)).toEqual([true, 1500]);
    expect(fail(s2, quietUntil + 2502)).toEqual([false, 2250]);
  });

  it('keeps the jitter within ± jitter-factor of the backoff, never below the initial backoff', () => {
    const jittered = (random: number): number[] => {
      const s = strategy(
        { 'restart-strategy.type': 'exponential-delay' },
        { random: () => random },
      );
      return [fail(s, 0)[1], fail(s, 10_000)[1], fail(s, 20_000)[1]];
    };
    // Bases 1000, 1500, 2250 with offsets of ±100, ±150, ±225.
    expect(jittered(0)).toEqual([1000, 1350, 2025]);
    expect(jittered(0.5)).toEqual([1000, 1500, 2250]);
    expect(jittered(0.999_999)).toEqual([1100, 1650, 2475]);

    // With Math.random: the second backoff of 10 s * 2 with jitter 0.5 is anywhere in 20 s ± 10 s.
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const s = strategy(
        {
          'restart-strategy.type': 'exponential-delay',
          'restart-strategy.exponential-delay.initial-backoff': '10 s',
          'restart-strategy.exponential-delay.backoff-multiplier': 2,
          'restart-strategy.exponential-delay.jitter-factor': 0.5,
        },
        { random: Math.random },
      );
      fail(s, 0);
      const [, backoff] = fail(s, 20_000);
      expect(backoff).toBeGreaterThanOrEqual(10_000);
      expect(backoff).toBeLessThanOrEqual(30_000);
      seen.add(backoff);
    }
    expect(seen.size).toBeGreaterThan(100);
  });

  it('never exceeds max-backoff, whatever the jitter', () => {
    const s = strategy(
      { 'restart-strategy.type': 'exponential-delay' },
      { random: () => 0.999_999 },
    );
    let now = 0;
    let last = 0;
    for (let i = 0; i < 2000; i++) {
      last = fail(s, now)[1];
      expect(last).toBeLessThanOrEqual(60_000);
      now += last + 1;
    }
    expect(last).toBe(60_000);
  });

  it('has no backoff to report before the first failure', () => {
    const s = strategy({}, { checkpointingEnabled: true });
    expect(s.canRestart()).toBe(true);
    expect(() => s.backoffTimeMs()).toThrow(IllegalStateError);
  });
});
