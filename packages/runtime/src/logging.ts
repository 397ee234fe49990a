import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The one logger of a Nimble process: structured JSON on stderr (stdout carries the jobs'
 * `print()` output), level from NIMBLE_LOG_LEVEL (info by default). Children carry the job,
 * task and subtask in their bindings.
 */
export function createLogger(name: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      name,
      level: process.env['NIMBLE_LOG_LEVEL'] ?? 'info',
      base: { pid: process.pid, ...bindings },
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
