/**
 * Writes a savepoint from a bounded job (Flink's `SavepointWriter`): new operators' keyed state
 * bootstrapped from streams, and the operators of an existing savepoint kept, removed, renamed or
 * stripped of a state. `write(path)` adds the job's sinks; `env.execute()` runs it, and once
 * it has finished the writer's job listener copies the kept operators' files and writes
 * `_metadata`, last, so a savepoint directory without `_metadata` was never completed.
 */
import { randomBytes } from 'node:crypto';
import type { JobExecutionResult, Key, Sink, StreamExecutionEnvironment } from '@nimble/api';
import type {
  CheckpointMetadata,
  KeyedStateHandle,
  OperatorStateMetadata,
  OperatorSubtaskState,
  S3Options,
  StateFileSystem,
} from '@nimble/runtime';
import {
  assignToKeyGroup,
  encodeMetadata,
  joinUri,
  METADATA_FILE,
  METADATA_VERSION,
  openSavepoint,
  operatorIndexForKeyGroup,
  resolveRelative,
} from '@nimble/runtime';
import type { BootstrapTarget } from './bootstrap-sink.js';
import { BootstrapSink, bootstrapKey, PARTS_DIRECTORY, partFileName } from './bootstrap-sink.js';
import { StateProcessorError } from './errors.js';
import type { BootstrapTransformation } from './operator-transformation.js';
import { OperatorIdentifier } from './operator-identifier.js';
import { removeStatesFromOperator } from './state-removal.js';
import {
  fileSystemOf,
  readSavepointMetadata,
  s3OptionsOfEnvironment,
  savepointDirectoryOf,
} from './savepoint-files.js';

/** Options of {@link SavepointWriter.newSavepoint}. */
export interface NewSavepointOptions {
  /**
   * The number of key groups of the written operators (default: the environment's max
   * parallelism, 128 unless set). It must equal the max parallelism of the job that restores the
   * savepoint.
   */
  readonly maxParallelism?: number;
}

interface ExistingSavepoint {
  readonly dir: string;
  readonly metadata: CheckpointMetadata;
}

interface PlannedBootstrap {
  readonly target: BootstrapTarget;
  readonly parallelism: number;
}

/** Writes a new savepoint, or a changed copy of an existing one. */
export class SavepointWriter {
  private readonly bootstraps = new Map<string, BootstrapTransformation<any, any>>();
  private readonly removed = new Set<string>();
  /** New uid by old uid. */
  private readonly renamed = new Map<string, string>();
  /** State names to drop, by (old) uid. */
  private readonly droppedStates = new Map<string, Set<string>>();
  private written = false;

  private constructor(
    private readonly env: StreamExecutionEnvironment,
    private readonly existing: ExistingSavepoint | undefined,
    private readonly maxParallelism: number,
  ) {}

  /** A savepoint with no operators yet; add them with {@link withOperator}. */
  static newSavepoint(
    env: StreamExecutionEnvironment,
    options: NewSavepointOptions = {},
  ): SavepointWriter {
    const maxParallelism = options.maxParallelism ?? env.getMaxParallelism();
    if (!Number.isInteger(maxParallelism) || maxParallelism < 1 || maxParallelism > 32768) {
      throw new RangeError(
        `SavepointWriter.newSavepoint: maxParallelism must be an integer in [1, 32768]; got ${maxParallelism}`,
      );
    }
    return new SavepointWriter(env, undefined, maxParallelism);
  }

  /**
   * A copy of the savepoint at `path` (its directory or its `_metadata`), to change. Every
   * operator of it is kept unless removed; its files are copied into the new savepoint, so the
   * result does not depend on the old one. Rejects with a {@link StateProcessorError} when no
   * savepoint is there.
   */
  static async fromExistingSavepoint(
    env: StreamExecutionEnvironment,
    path: string,
  ): Promise<SavepointWriter> {
    const dir = savepointDirectoryOf(path, 'SavepointWriter.fromExistingSavepoint');
    const fs = fileSystemOf(dir, s3OptionsOfEnvironment(env));
    let metadata: CheckpointMetadata;
    try {
      metadata = await readSavepointMetadata(fs, dir);
    } finally {
      fs.close();
    }
    // New operators get the key groups of the existing ones (all of a job's keyed operators share them).
    const maxParallelism = metadata.operators[0]?.maxParallelism ?? env.getMaxParallelism();
    return new SavepointWriter(env, { dir, metadata }, maxParallelism);
  }

  /** Adds an operator whose state `transformation` writes. Its uid must be new to the savepoint. */
  withOperator(id: OperatorIdentifier, transformation: BootstrapTransformation<any, any>): this {
    this.checkOpen('withOperator');
    const uid = uidOf(id, 'withOperator');
    if (this.bootstraps.has(uid) || (this.existingOperator(uid) && !this.removed.has(uid))) {
      throw new StateProcessorError(
        `withOperator: the savepoint already has an operator with uid ${JSON.stringify(uid)}; ` +
          'uids must be unique (removeOperator it first to replace its state)',
      );
    }
    if (!transformation || typeof transformation.fn?.processElement !== 'function') {
      throw new TypeError(
        'withOperator: the transformation must come from OperatorTransformation.bootstrapWith(...).keyBy(...).transform(...)',
      );
    }
    this.bootstraps.set(uid, transformation);
    return this;
  }

  /** Leaves the operator with this uid out of the written savepoint. */
  removeOperator(id: OperatorIdentifier): this {
    this.checkOpen('removeOperator');
    const uid = uidOf(id, 'removeOperator');
    this.requireExisting(uid, 'removeOperator');
    this.removed.add(uid);
    return this;
  }

  /**
   * Gives the state of operator `from` to uid `to`, so a job whose operator now has uid `to`
   * restores it (Flink's `changeOperatorIdentifier`).
   */
  changeOperatorIdentifier(from: OperatorIdentifier, to: OperatorIdentifier): this {
    this.checkOpen('changeOperatorIdentifier');
    const oldUid = uidOf(from, 'changeOperatorIdentifier');
    const newUid = uidOf(to, 'changeOperatorIdentifier');
    this.requireExisting(oldUid, 'changeOperatorIdentifier');
    const taken =
      this.bootstraps.has(newUid) ||
      [...this.renamed.values()].includes(newUid) ||
      (this.existingOperator(newUid) !== undefined &&
        newUid !== oldUid &&
        !this.removed.has(newUid) &&
        !this.renamed.has(newUid));
    if (taken) {
      throw new StateProcessorError(
        `changeOperatorIdentifier: uid ${JSON.stringify(newUid)} is already used in the savepoint; ` +
          'remove that operator first or pick another uid',
      );
    }
    this.renamed.set(oldUid, newUid);
    return this;
  }

  /**
   * Drops one keyed state (by the name it was registered with) of an operator of the existing
   * savepoint; its other states, its timers and its operator state are kept. A job that restores
   * the savepoint starts that state empty. (Flink has no such call: there one re-bootstraps the
   * operator from the read state; that works here too.)
   */
  removeState(id: OperatorIdentifier, stateName: string): this {
    this.checkOpen('removeState');
    const uid = uidOf(id, 'removeState');
    this.requireExisting(uid, 'removeState');
    if (typeof stateName !== 'string' || stateName === '') {
      throw new StateProcessorError('removeState: the state name must be a non-empty string');
    }
    const names = this.droppedStates.get(uid) ?? new Set<string>();
    names.add(stateName);
    this.droppedStates.set(uid, names);
    return this;
  }

  /**
   * Adds the job that writes the savepoint to `path` (a new directory, `file://` or `s3://`);
   * `await env.execute()` runs it. The savepoint is complete when `execute()` resolves.
   */
  write(path: string): void {
    this.checkOpen('write');
    const dir = savepointDirectoryOf(path, 'SavepointWriter.write');
    if (this.existing && this.existing.dir === dir) {
      throw new StateProcessorError(
        `SavepointWriter.write: ${dir} is the savepoint being changed; write to a new directory`,
      );
    }
    if (this.existing === undefined && this.bootstraps.size === 0) {
      throw new StateProcessorError(
        'SavepointWriter.write: the savepoint has no operators; add one with withOperator()',
      );
    }
    this.written = true;
    const s3 = s3OptionsOfEnvironment(this.env);
    const planned = this.planBootstraps(dir, s3);
    if (planned.length === 0) {
      // Only changes to an existing savepoint: the job has nothing to do but must exist.
      this.env.fromElements(0).sinkTo(new NoOpSink(), 'Savepoint writer');
    }
    this.env.registerJobListener({
      onJobExecuted: (result, error) => this.finish(dir, s3, planned, result, error),
    });
  }

  private planBootstraps(dir: string, s3: S3Options): PlannedBootstrap[] {
    const maxP = this.maxParallelism;
    const prefixes = new Set<string>();
    const planned: PlannedBootstrap[] = [];
    for (const [uid, t] of this.bootstraps) {
      const parallelism = t.parallelism ?? this.env.getParallelism();
      if (parallelism > maxP) {
        throw new StateProcessorError(
          `SavepointWriter.write: operator ${JSON.stringify(uid)} would be written at parallelism ` +
            `${parallelism}, above the savepoint's maxParallelism ${maxP}; lower it with setParallelism()`,
        );
      }
      let filePrefix = uid.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^\.+/, '_');
      if (prefixes.has(filePrefix)) filePrefix = `${filePrefix}-${planned.length}`;
      prefixes.add(filePrefix);
      const target: BootstrapTarget = {
        uid,
        filePrefix,
        maxParallelism: maxP,
        savepointDir: dir,
        s3,
      };
      const keySelector = t.keySelector as (v: unknown) => Key;
      t.stream
        .partitionCustom(
          (key: Key, n: number) =>
            operatorIndexForKeyGroup(maxP, n, assignToKeyGroup(bootstrapKey(key, uid), maxP)),
          keySelector,
        )
        .sinkTo(new BootstrapSink(target, keySelector, t.fn), `Bootstrap ${uid}`)
        .setParallelism(parallelism);
      planned.push({ target, parallelism });
    }
    return planned;
  }

  private async finish(
    dir: string,
    s3: S3Options,
    planned: readonly PlannedBootstrap[],
    result: JobExecutionResult | undefined,
    error: unknown,
  ): Promise<void> {
    if (result?.detached === true) {
      // The subtasks have not written their parts yet: nothing can be assembled, and nothing
      // may be discarded under the running job.
      throw new StateProcessorError(
        `SavepointWriter.write: job ${result.jobId} was submitted detached (nimble run -d), but ` +
          `${METADATA_FILE} of ${dir} can only be written when the job has ended; run the script ` +
          'in-process (tsx script.ts) or with `nimble run` without -d',
      );
    }
    const fs = fileSystemOf(dir, s3);
    try {
      if (error !== undefined) {
        await this.discardParts(fs, dir, planned);
        return;
      }
      if (await fs.exists(`${dir}/${METADATA_FILE}`)) {
        await this.discardParts(fs, dir, planned);
        throw new StateProcessorError(
          `SavepointWriter.write: ${dir} already holds a savepoint (${METADATA_FILE}); write to a new directory`,
        );
      }
      const operators: OperatorStateMetadata[] = [];
      for (const p of planned) operators.push(await this.bootstrappedOperator(fs, dir, p));
      if (this.existing) operators.push(...(await this.keptOperators(fs, dir, s3)));
      await fs.deleteRecursive(joinUri(dir, PARTS_DIRECTORY));
      const metadata: CheckpointMetadata = {
        version: METADATA_VERSION,
        jobId: randomBytes(16).toString('hex'),
        checkpointId: this.existing?.metadata.checkpointId ?? 0,
        type: 'SAVEPOINT',
        timestamp: Date.now(),
        operators,
      };
      await fs.writeAtomic(`${dir}/${METADATA_FILE}`, encodeMetadata(metadata));
    } finally {
      fs.close();
    }
  }

  private async bootstrappedOperator(
    fs: StateFileSystem,
    dir: string,
    p: PlannedBootstrap,
  ): Promise<OperatorStateMetadata> {
    const subtasks: OperatorSubtaskState[] = [];
    for (let i = 0; i < p.parallelism; i++) {
      const uri = joinUri(dir, PARTS_DIRECTORY, partFileName(p.target, i));
      subtasks.push(JSON.parse(Buffer.from(await fs.read(uri)).toString('utf8')));
    }
    const uid = this.renamed.get(p.target.uid) ?? p.target.uid;
    return {
      uid,
      name: uid,
      parallelism: p.parallelism,
      maxParallelism: p.target.maxParallelism,
      subtasks,
    };
  }

  /** The existing savepoint's operators that stay, their files copied into `dir`. */
  private async keptOperators(
    fs: StateFileSystem,
    dir: string,
    s3: S3Options,
  ): Promise<OperatorStateMetadata[]> {
    const { dir: oldDir, metadata } = this.existing!;
    const source = fileSystemOf(oldDir, s3);
    const view = this.droppedStates.size > 0 ? await openSavepoint(oldDir, { s3 }) : undefined;
    const kept: OperatorStateMetadata[] = [];
    try {
      for (const op of metadata.operators) {
        if (this.removed.has(op.uid)) continue;
        const dropped = this.droppedStates.get(op.uid);
        const subtasks: OperatorSubtaskState[] =
          dropped === undefined
            ? await Promise.all(op.subtasks.map((st) => copySubtask(source, oldDir, fs, dir, st)))
            : await removeStatesFromOperator(view!.operator(op.uid), fs, dir, op, dropped);
        kept.push({ ...op, uid: this.renamed.get(op.uid) ?? op.uid, subtasks });
      }
    } finally {
      view?.close();
      source.close();
    }
    return kept;
  }

  private async discardParts(
    fs: StateFileSystem,
    dir: string,
    planned: readonly PlannedBootstrap[],
  ): Promise<void> {
    for (const p of planned) {
      for (let i = 0; i < p.parallelism; i++) {
        const uri = joinUri(dir, PARTS_DIRECTORY, partFileName(p.target, i));
        try {
          const st = JSON.parse(Buffer.from(await fs.read(uri)).toString('utf8')) as
            OperatorSubtaskState | undefined;
          for (const f of st?.keyed?.files ?? []) await fs.delete(joinUri(dir, f.path));
          await fs.delete(uri);
        } catch {
          // A subtask that failed before its part: nothing of it to find.
        }
      }
    }
  }

  private existingOperator(uid: string): OperatorStateMetadata | undefined {
    return this.existing?.metadata.operators.find((o) => o.uid === uid);
  }

  private requireExisting(uid: string, method: string): void {
    if (this.existing === undefined) {
      throw new StateProcessorError(
        `${method}: a new savepoint has no operators to change; open one with SavepointWriter.fromExistingSavepoint`,
      );
    }
    if (this.existingOperator(uid) === undefined) {
      const known = this.existing.metadata.operators.map((o) => JSON.stringify(o.uid)).join(', ');
      throw new StateProcessorError(
        `${method}: the savepoint at ${this.existing.dir} has no operator with uid ${JSON.stringify(uid)}; ` +
          `its operators are ${known || '(none)'}`,
      );
    }
  }

  private checkOpen(method: string): void {
    if (this.written) {
      throw new StateProcessorError(
        `${method}: write() was already called on this SavepointWriter; create a new one for another savepoint`,
      );
    }
  }
}

function uidOf(id: OperatorIdentifier, method: string): string {
  if (!(id instanceof OperatorIdentifier)) {
    throw new TypeError(`${method}: name the operator with OperatorIdentifier.forUid(uid)`);
  }
  return id.uid;
}

/** Copies one subtask's keyed state files into `dir`; paths become plain file names there. */
export async function copySubtask(
  source: StateFileSystem,
  oldDir: string,
  fs: StateFileSystem,
  dir: string,
  st: OperatorSubtaskState,
): Promise<OperatorSubtaskState> {
  if (st.keyed === undefined) return st;
  const files = [];
  for (const f of st.keyed.files) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    const bytes = await source.read(resolveRelative(oldDir, f.path));
    await fs.write(joinUri(dir, name), bytes);
    files.push({ ...f, path: name });
  }
  const keyed: KeyedStateHandle = { keyGroupRange: st.keyed.keyGroupRange, files };
  return { ...st, keyed };
}

class NoOpSink implements Sink<unknown> {
  createWriter(): { write(): void; flush(): void; close(): void } {
    return { write() {}, flush() {}, close() {} };
  }
}
