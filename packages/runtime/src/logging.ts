import { writeSync } from 'node:fs';
import { inspect } from 'node:util';
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import { ConfigurationError } from './errors.js';

export type { Logger };

/** How a process writes its log: JSON lines, or lines for people. */
export type LogFormat = 'json' | 'text';

const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/**
 * The log format of this process: NIMBLE_LOG_FORMAT (`nimble --log-format` sets it, and child
 * daemons inherit it), else `text` when stderr is a terminal and `json` when it is not (a file,
 * a pipe, a container's log collector).
 */
export function logFormat(env: NodeJS.ProcessEnv = process.env): LogFormat {
  const configured = env['NIMBLE_LOG_FORMAT'];
  if (configured === undefined || configured === '') {
    return process.stderr.isTTY ? 'text' : 'json';
  }
  return parseLogFormat(configured, 'NIMBLE_LOG_FORMAT');
}

/** Checks a log format given by the user; `source` names where it came from. */
export function parseLogFormat(value: string, source: string): LogFormat {
  if ((LOG_FORMATS as readonly string[]).includes(value)) return value as LogFormat;
  throw new ConfigurationError(
    `${source}: unknown log format ${JSON.stringify(value)}; use one of ${LOG_FORMATS.join(', ')}`,
  );
}

/**
 * The one logger of a Nimble process, on stderr (stdout carries the jobs' `print()` output),
 * level from NIMBLE_LOG_LEVEL (info by default), format from {@link logFormat}. Children carry
 * the job, task and subtask in their bindings.
 */
export function createLogger(
  name: string,
  bindings: Record<string, unknown> = {},
  options: { readonly recent?: RecentLogLines } = {},
): Logger {
  const settings = {
    name,
    level: process.env['NIMBLE_LOG_LEVEL'] ?? 'info',
    base: { pid: process.pid, ...bindings },
  };
  const destination: DestinationStream =
    logFormat() === 'text' ? textDestination(useColor()) : pino.destination({ fd: 2, sync: true });
  const recent = options.recent;
  if (recent === undefined) return pino(settings, destination);
  return pino(settings, {
    write(line: string): void {
      recent.push(line);
      destination.write(line);
    },
  });
}

/** Lines a daemon keeps of its own log for REST (Flink shows its log files there). */
export const LOG_LINES_KEPT = 2000;

/**
 * The latest lines a logger wrote (a ring of `capacity` lines, as text for people whatever the
 * format on stderr), for a daemon that logs to stderr only and still shows its log over REST
 * (`/jobmanager/log`).
 */
export class RecentLogLines {
  private readonly lines: string[] = [];
  private bytes = 0;
  /** When the latest line was written (0: none yet). */
  lastWrite = 0;

  constructor(readonly capacity: number) {}

  /** Takes one line as pino writes it (JSON). */
  push(line: string): void {
    let text: string;
    try {
      text = formatRecord(JSON.parse(line) as Record<string, unknown>);
    } catch {
      text = line.endsWith('\n') ? line : `${line}\n`;
    }
    this.lines.push(text);
    this.bytes += Buffer.byteLength(text);
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

/** Colors for a terminal that is not told otherwise (NO_COLOR, FORCE_COLOR: their conventions). */
function useColor(env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  return process.stderr.isTTY === true;
}

const LEVELS: Record<number, { label: string; color: string }> = {
  10: { label: 'TRACE', color: '90' },
  20: { label: 'DEBUG', color: '90' },
  30: { label: 'INFO ', color: '32' },
  40: { label: 'WARN ', color: '33' },
  50: { label: 'ERROR', color: '31' },
  60: { label: 'FATAL', color: '35' },
};

/** Fields every line has, shown in their own places rather than as key=value. */
const OWN_PLACE = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'err']);

/**
 * Writes each pino record as one line for people, as Flink's console log does with its pattern:
 * `09:58:01.123 INFO  jobmanager  job submitted  job_id=… job_name=…`, and an error's stack on
 * the lines after it.
 */
function textDestination(color: boolean): DestinationStream {
  const paint = (code: string, text: string): string =>
    color ? `\u001b[${code}m${text}\u001b[0m` : text;
  return {
    write(line: string): void {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        writeSync(2, line);
        return;
      }
      writeSync(2, formatRecord(record, paint));
    },
  };
}

/** One record as text (exported for tests). */
export function formatRecord(
  record: Record<string, unknown>,
  paint: (code: string, text: string) => string = (_code, text) => text,
): string {
  const level = LEVELS[record['level'] as number] ?? { label: String(record['level']), color: '0' };
  const time = typeof record['time'] === 'number' ? new Date(record['time']) : new Date();
  const clock =
    `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}` +
    `.${String(time.getMilliseconds()).padStart(3, '0')}`;
  const fields: string[] = [];
  for (const [key, value] of Object.entries(record)) {
    if (OWN_PLACE.has(key) || value === undefined) continue;
    fields.push(paint('2', `${key}=`) + formatValue(value));
  }
  let text =
    `${paint('2', clock)} ${paint(level.color, level.label)} ` +
    `${paint('36', String(record['name'] ?? ''))}  ${String(record['msg'] ?? '')}` +
    (fields.length > 0 ? `  ${fields.join(' ')}` : '');
  const err = record['err'] as { stack?: unknown; message?: unknown } | undefined;
  if (err !== undefined) {
    const stack = typeof err.stack === 'string' ? err.stack : String(err.message ?? '');
    text += '\n' + paint(level.color, indent(stack));
  }
  return text + '\n';
}

function formatValue(value: unknown): string {
  if (typeof value === 'string') return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return inspect(value, { breakLength: Infinity, depth: 3, colors: false });
}

const pad = (n: number): string => String(n).padStart(2, '0');
const indent = (text: string): string =>
  text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
