// `nimble savepoint inspect <path>`: what a savepoint or retained checkpoint holds, read straight
// from its files (no JobManager): operators, keyed states, key groups, timers, source splits,
// sink committables and other operator states; one key's value; every entry of a state as JSON
// lines. Values are shown with stateValueToJson's mapping.
import type { Key } from '@nimble/api';
import type { JsonValue, OperatorView, SavepointView, StateSummary } from '@nimble/runtime';
import {
  CheckpointMetadataError,
  COMMITTABLES_STATE,
  NimbleError,
  openSavepoint,
  StateFileCorruptedError,
  SOURCE_SPLITS_STATE,
  stateValueToJson,
} from '@nimble/runtime';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { ConfigFlags } from './daemons.js';
import { loadClusterConfiguration } from './daemons.js';
import { CommandError } from './commands.js';
import { ExitCode } from './exit-codes.js';

export interface InspectFlags extends ConfigFlags {
  readonly state?: string;
  readonly key?: string;
  readonly keyType?: string;
  readonly operator?: string;
  readonly dump?: boolean;
  readonly output?: string;
  readonly json?: boolean;
  readonly keyGroups?: boolean;
}

const KEY_TYPES = ['string', 'number', 'bigint', 'boolean', 'json'] as const;

/** Runs the command, writing to `out` (stdout); returns the exit code. */
export async function inspectSavepoint(
  path: string,
  flags: InspectFlags,
  out: Writable = process.stdout,
): Promise<number> {
  checkFlags(flags);
  const key = flags.key === undefined ? undefined : parseKey(flags.key, flags.keyType);
  const { config } = loadClusterConfiguration(flags);
  const view = await openSavepoint(path, { config }).catch(failure);
  try {
    if (flags.dump) return await dump(view, flags, out).catch(failure);
    if (key !== undefined) return await lookUp(view, key, flags, out).catch(failure);
    const report = await reportOf(view).catch(failure);
    await write(
      out,
      flags.json
        ? `${JSON.stringify(report, null, 2)}\n`
        : formatReport(report, flags.keyGroups === true),
    );
    return ExitCode.OK;
  } finally {
    view.close();
  }
}

/**
 * A savepoint that cannot be read as asked (missing or damaged files, an unknown operator or
 * state, storage errors) ends the command with its message, without a stack trace.
 */
function failure(e: unknown): never {
  if (
    e instanceof CheckpointMetadataError ||
    e instanceof StateFileCorruptedError ||
    e instanceof NimbleError
  )
    throw new CommandError(e.message, ExitCode.FAILURE);
  throw e;
}

function checkFlags(flags: InspectFlags): void {
  const usage = (message: string): never => {
    throw new CommandError(`savepoint inspect: ${message}`, ExitCode.USAGE);
  };
  if (flags.dump && flags.key !== undefined) usage('--dump and --key cannot be combined');
  if ((flags.dump || flags.key !== undefined) && flags.state === undefined)
    usage(`${flags.dump ? '--dump' : '--key'} needs --state <name>`);
  if (flags.state !== undefined && !flags.dump && flags.key === undefined)
    usage('--state needs --key <key> (one value) or --dump (every entry)');
  if (flags.output !== undefined && !flags.dump) usage('--output goes with --dump');
  if (flags.keyType !== undefined && flags.key === undefined) usage('--key-type goes with --key');
  if (flags.keyType !== undefined && !(KEY_TYPES as readonly string[]).includes(flags.keyType))
    usage(`--key-type ${flags.keyType}: expected one of ${KEY_TYPES.join(', ')}`);
  if ((flags.dump || flags.key !== undefined) && (flags.json || flags.keyGroups))
    usage('--json and --key-groups go with the listing, not with --key or --dump');
}

/** The key given on the command line, as `--key-type` says to read it. */
export function parseKey(text: string, type = 'string'): Key {
  const bad = (what: string): never => {
    throw new CommandError(`--key ${JSON.stringify(text)}: ${what}`, ExitCode.USAGE);
  };
  switch (type) {
    case 'string':
      return text;
    case 'number': {
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) bad('not a finite number (--key-type number)');
      return n;
    }
    case 'bigint':
      // BigInt('') is 0n.
      if (text.trim() === '') bad('not an integer (--key-type bigint)');
      try {
        return BigInt(text);
      } catch {
        return bad('not an integer (--key-type bigint)');
      }
    case 'boolean':
      if (text !== 'true' && text !== 'false') bad('expected true or false (--key-type boolean)');
      return text === 'true';
    default: {
      let key: unknown;
      try {
        key = JSON.parse(text);
      } catch (e) {
        bad(`not JSON (${(e as Error).message})`);
      }
      if (!isJsonKey(key))
        bad('a JSON key is a string, a finite number, a boolean or an array of them');
      return key as Key;
    }
  }
}

function isJsonKey(value: unknown): boolean {
  if (Array.isArray(value)) return value.every(isJsonKey);
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

// ---- one key, every entry ----

/**
 * The operator whose keyed state `name` is meant: `--operator`, else the only operator with a
 * state of that name. `hint` is checked first: operators whose key group of the key holds the
 * state (no full read when exactly one does).
 */
async function operatorOfState(
  view: SavepointView,
  flags: InspectFlags,
  hint?: (op: OperatorView) => Promise<boolean>,
): Promise<OperatorView> {
  const name = flags.state!;
  if (flags.operator !== undefined) {
    try {
      return view.operator(flags.operator);
    } catch (e) {
      throw new CommandError((e as Error).message, ExitCode.USAGE);
    }
  }
  const keyed = view.operators().filter((op) => op.keyGroups().length > 0);
  if (hint !== undefined) {
    const hinted: OperatorView[] = [];
    for (const op of keyed) if (await hint(op)) hinted.push(op);
    if (hinted.length === 1) return hinted[0]!;
    if (hinted.length > 1) throw ambiguous(name, hinted);
  }
  const withState: OperatorView[] = [];
  const all: string[] = [];
  for (const op of keyed) {
    const names = (await op.states()).map((s) => s.name);
    all.push(...names.map((n) => `${n} (${op.uid})`));
    if (names.includes(name)) withState.push(op);
  }
  if (withState.length === 1) return withState[0]!;
  if (withState.length > 1) throw ambiguous(name, withState);
  throw new CommandError(
    `No operator has a keyed state named "${name}"; the keyed states are: ${all.join(', ') || '(none)'}`,
    ExitCode.FAILURE,
  );
}

function ambiguous(name: string, ops: readonly OperatorView[]): CommandError {
  return new CommandError(
    `Several operators have a keyed state named "${name}" (${ops.map((o) => o.uid).join(', ')}): ` +
      'choose one with --operator <uid>',
    ExitCode.USAGE,
  );
}

async function lookUp(
  view: SavepointView,
  key: Key,
  flags: InspectFlags,
  out: Writable,
): Promise<number> {
  const name = flags.state!;
  const values = new Map<OperatorView, unknown>();
  const op = await operatorOfState(view, flags, async (candidate) => {
    const value = await candidate.get(name, key);
    if (value !== undefined) values.set(candidate, value);
    return value !== undefined;
  });
  const value = values.has(op) ? values.get(op) : await op.get(name, key);
  if (value === undefined) {
    throw new CommandError(
      `Key ${JSON.stringify(stateValueToJson(key))} has no value in state "${name}" of operator "${op.uid}"` +
        (flags.keyType === undefined && typeof key === 'string'
          ? ' (the key was read as a string: give --key-type for numbers, bigints, booleans or JSON arrays)'
          : ''),
      ExitCode.FAILURE,
    );
  }
  await write(out, `${JSON.stringify(stateValueToJson(value), null, 2)}\n`);
  return ExitCode.OK;
}

async function dump(view: SavepointView, flags: InspectFlags, stdout: Writable): Promise<number> {
  const op = await operatorOfState(view, flags);
  const out = flags.output === undefined ? stdout : createWriteStream(flags.output);
  let lines = 0;
  try {
    let chunk = '';
    for await (const entry of op.entries(flags.state!)) {
      const line: Record<string, JsonValue> = {
        key: stateValueToJson(entry.key),
        namespace: entry.namespace,
        value: stateValueToJson(entry.value),
      };
      if (entry.lastAccess !== undefined) line['lastAccess'] = entry.lastAccess;
      chunk += `${JSON.stringify(line)}\n`;
      lines++;
      if (chunk.length >= 64 * 1024) {
        await write(out, chunk);
        chunk = '';
      }
    }
    await write(out, chunk);
  } finally {
    if (out !== stdout) await new Promise<void>((resolve) => out.end(resolve));
  }
  if (flags.output !== undefined)
    process.stderr.write(`Wrote ${lines} entries of state "${flags.state}" to ${flags.output}\n`);
  return ExitCode.OK;
}

/** Writes `text`, waiting for the stream to drain when it asks to. */
function write(out: Writable, text: string): Promise<void> {
  if (text === '') return Promise.resolve();
  return new Promise((resolve, reject) => {
    out.write(text, (e) => (e ? reject(e) : resolve()));
  });
}

// ---- the listing ----

/** What the listing shows, as `--json` prints it. */
export interface InspectReport {
  readonly location: string;
  readonly type: 'CHECKPOINT' | 'SAVEPOINT';
  readonly checkpointId: number;
  readonly jobId: string;
  readonly timestamp: number;
  /** ISO 8601 of `timestamp`. */
  readonly time: string;
  readonly operators: OperatorReport[];
}

export interface OperatorReport {
  readonly uid: string;
  readonly name: string;
  readonly parallelism: number;
  readonly maxParallelism: number;
  /** Bytes of keyed state (all files of incremental chains); 0 without keyed state. */
  readonly keyedStateBytes: number;
  readonly keyGroups: readonly { keyGroup: number; subtask: number; bytes: number }[];
  readonly states: readonly StateSummary[];
  readonly timers: { readonly eventTime: number; readonly processingTime: number };
  readonly sourceSplits: readonly { subtask: number; split: JsonValue }[];
  readonly pendingCommittables: readonly { subtask: number; committable: JsonValue }[];
  readonly operatorStates: readonly {
    subtask: number;
    name: string;
    mode: string;
    value: JsonValue;
  }[];
  /** The split enumerator's state of a source; null when none. */
  readonly coordinatorState: JsonValue;
}

export async function reportOf(view: SavepointView): Promise<InspectReport> {
  const operators: OperatorReport[] = [];
  for (const op of view.operators()) {
    const keyGroups = op.keyGroups();
    const timers = keyGroups.length === 0 ? [] : await op.timers();
    const sourceSplits: { subtask: number; split: JsonValue }[] = [];
    const pendingCommittables: { subtask: number; committable: JsonValue }[] = [];
    const operatorStates: OperatorReport['operatorStates'][number][] = [];
    for (const { subtask, name, mode, value } of op.operatorStates()) {
      const elements = Array.isArray(value) ? value : [value];
      if (name === SOURCE_SPLITS_STATE) {
        for (const split of elements)
          sourceSplits.push({ subtask, split: stateValueToJson(split) });
      } else if (name === COMMITTABLES_STATE) {
        for (const c of elements)
          pendingCommittables.push({ subtask, committable: stateValueToJson(c) });
      } else {
        operatorStates.push({ subtask, name, mode, value: stateValueToJson(value) });
      }
    }
    const coordinator = op.coordinatorState();
    operators.push({
      uid: op.uid,
      name: op.name,
      parallelism: op.parallelism,
      maxParallelism: op.maxParallelism,
      keyedStateBytes: keyGroups.reduce((n, g) => n + g.bytes, 0),
      keyGroups,
      states: keyGroups.length === 0 ? [] : await op.states(),
      timers: {
        eventTime: timers.filter((t) => t.domain === 'event-time').length,
        processingTime: timers.filter((t) => t.domain === 'processing-time').length,
      },
      sourceSplits,
      pendingCommittables,
      operatorStates,
      coordinatorState: coordinator === undefined ? null : stateValueToJson(coordinator),
    });
  }
  const { metadata } = view;
  return {
    location: view.location,
    type: metadata.type,
    checkpointId: metadata.checkpointId,
    jobId: metadata.jobId,
    timestamp: metadata.timestamp,
    time: new Date(metadata.timestamp).toISOString(),
    operators,
  };
}

/** Longest JSON shown for one value in the listing (`--json` shows all). */
const MAX_VALUE_TEXT = 160;

function short(value: JsonValue): string {
  const text = JSON.stringify(value);
  return text.length <= MAX_VALUE_TEXT ? text : `${text.slice(0, MAX_VALUE_TEXT - 3)}...`;
}

/** The listing as text; `allKeyGroups` lists every key group instead of a summary line. */
export function formatReport(report: InspectReport, allKeyGroups: boolean): string {
  const lines: string[] = [
    `${report.type === 'SAVEPOINT' ? 'Savepoint' : 'Checkpoint'} ${report.checkpointId} of job ${report.jobId}, taken ${report.time}`,
    `Location: ${report.location}`,
  ];
  for (const op of report.operators) {
    lines.push(
      '',
      `Operator ${op.uid} "${op.name}": parallelism ${op.parallelism}, max parallelism ${op.maxParallelism}`,
    );
    if (op.keyGroups.length > 0) {
      const sizes = op.keyGroups.map((g) => g.bytes);
      lines.push(
        `  Keyed state: ${op.keyedStateBytes} bytes in ${op.keyGroups.length} of ${op.maxParallelism} key groups ` +
          `(${Math.min(...sizes)} to ${Math.max(...sizes)} bytes per key group)`,
      );
      lines.push(
        ...table(
          ['STATE', 'KIND', 'TTL', 'KEYS', 'ENTRIES', 'BYTES'],
          op.states.map((s) => [
            s.name,
            s.kind,
            s.ttl ? 'yes' : 'no',
            String(s.keys),
            String(s.entries),
            String(s.bytes),
          ]),
        ).map((l) => `    ${l}`),
      );
      if (allKeyGroups) {
        lines.push('  Key groups:');
        lines.push(
          ...table(
            ['KEY GROUP', 'SUBTASK', 'BYTES', 'ENTRIES'],
            op.keyGroups.map((g) => [
              String(g.keyGroup),
              String(g.subtask),
              String(g.bytes),
              String(
                op.states.reduce(
                  (n, s) => n + (s.keyGroups.find((k) => k.keyGroup === g.keyGroup)?.entries ?? 0),
                  0,
                ),
              ),
            ]),
          ).map((l) => `    ${l}`),
        );
      }
      lines.push(
        `  Timers: ${op.timers.eventTime} event time, ${op.timers.processingTime} processing time`,
      );
    }
    if (op.sourceSplits.length > 0) {
      lines.push('  Source splits:');
      for (const s of op.sourceSplits) lines.push(`    subtask ${s.subtask}: ${short(s.split)}`);
    }
    if (op.coordinatorState !== null)
      lines.push(`  Split enumerator: ${short(op.coordinatorState)}`);
    if (op.pendingCommittables.length > 0) {
      lines.push('  Pending sink committables:');
      for (const c of op.pendingCommittables)
        lines.push(`    subtask ${c.subtask}: ${short(c.committable)}`);
    }
    if (op.operatorStates.length > 0) {
      lines.push('  Operator states:');
      for (const s of op.operatorStates)
        lines.push(`    ${s.name} (${s.mode}), subtask ${s.subtask}: ${short(s.value)}`);
    }
    if (
      op.keyGroups.length === 0 &&
      op.sourceSplits.length === 0 &&
      op.coordinatorState === null &&
      op.pendingCommittables.length === 0 &&
      op.operatorStates.length === 0
    )
      lines.push('  No state');
  }
  return `${lines.join('\n')}\n`;
}

/** Rows with columns padded to their widest cell. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
}
