import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/**
 * The one logger of a Nimble process: structured JSON on stderr (stdout carries the jobs'
 * `print()` output), level from NIMBLE_LOG_LEVEL (info by default). Children carry the job,
 * task and subtask in their bindings.
 */
export function createLogger(
  name: string,
  bindings: Record<string, unknown> = {},
  options: { readonly recent?: RecentLogLines } = {},
): Logger {
  const destination = pino.destination({ fd: 2, sync: true });
  const recent = options.recent;
  return pino(
    {
      name,
      level: process.env['NIMBLE_LOG_LEVEL'] ?? 'info',
      base: { pid: process.pid, ...bindings },
    },
    recent
      ? {
          write(line: string) {
            recent.push(line);
            destination.write(line);
          },
        }
      : destination,
  );
}

/**
 * The latest lines a logger wrote (a ring of `capacity` lines), for a daemon that logs to
 * stderr only and still shows its log over REST (`/jobmanager/log`).
 */
export class RecentLogLines {
  private readonly lines: string[] = [];
  private bytes = 0;
  /** When the latest line was written (0: none yet). */
  lastWrite = 0;

  constructor(readonly capacity: number) {}

  push(line: string): void {
    this.lines.push(line.endsWith('\n') ? line : `${line}\n`);
    this.bytes += Buffer.byteLength(this.lines.at(-1)!);
    while (this.lines.length > this.capacity) this.bytes -= Buffer.byteLength(this.lines.shift()!);
    this.lastWrite = Date.now();
  }

  /** Bytes the kept lines take. */
  get size(): number {
    return this.bytes;
  }

  text(): string {
    return this.lines.join('');
  }
}
