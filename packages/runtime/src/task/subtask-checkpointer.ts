import type { SourceSplit } from '@nimble/api';
import { ensureError, IllegalStateError } from '../errors.js';
import type { CheckpointOptions } from '../exchange/buffer-codec.js';
import type { ChannelState } from '../checkpoint/channel-state.js';
import {
  assembleChannelStateFile,
  CHANNEL_STATE_FORMAT,
  checkChannelStateParallelism,
  readChannelState,
} from '../checkpoint/channel-state.js';
import { assembleKeyedStateFile } from '../checkpoint/keyed-state-file.js';
import { encodeOpaque } from '../checkpoint/metadata.js';
import type { KeyedStateFileHandle, OperatorSubtaskState } from '../checkpoint/metadata.js';
import type { TaskCheckpointServices, TaskRestore } from '../checkpoint/task-state.js';
import { restoredOperatorState, restoreKeyedState } from '../checkpoint/task-state.js';
import { resolveRelative } from '../checkpoint/paths.js';
import type { OutputChannelState } from '../exchange/record-writer.js';
import type { JobGraph, StreamNode } from '../graph/job-graph.js';
import { KeyGroupRange } from '../keys/index.js';
import type { AbstractStreamOperator } from '../operators/operator.js';
import type { KeyedStateBackend, KeyedStateSnapshot } from '../state/index.js';
import type { OperatorStateMode, OperatorStateSnapshot } from '../state/operator-state-store.js';
import type { HoldableProcessingTimeService } from '../timers/holdable-processing-time-service.js';
import type { AlignedCheckpointHandler, InputChannelState } from './barrier-aligner.js';
import type { OperatorChain } from './operator-chain.js';
import type { SourceInput } from './source-input.js';
import type { TaskContext } from './task-context.js';

/** Names the decline of a task that ended: the checkpoint is aborted, not counted as failed. */
export const TASK_NOT_RUNNING = 'CheckpointDeclineTaskNotRunningError';

/** Operator state name of a source's split positions. */
export const SOURCE_SPLITS_STATE = 'splits';

/** One operator's operator state as the synchronous phase captured it, already serialized. */
interface EncodedOperatorState {
  readonly operatorState: Record<string, string>;
  readonly operatorStateModes: Record<string, OperatorStateMode>;
}

/** What the synchronous phase of a checkpoint captured. */
interface PendingSnapshot {
  readonly operatorStates: Map<string, EncodedOperatorState>;
  readonly keyed: {
    readonly uid: string;
    readonly node: StreamNode;
    readonly snapshot: KeyedStateSnapshot;
    readonly timers: Map<number, unknown[]> | undefined;
  }[];
  /** Per output edge: the buffers the barrier overtook (unaligned, or aligned with a timeout). */
  readonly outputStates: Map<string, Promise<OutputChannelState>>;
  /** Unaligned: the input channel state, complete once every channel's barrier arrived. */
  readonly inputState: Promise<InputChannelState> | undefined;
}

type SubtaskOperatorState = {
  -readonly [K in keyof Omit<OperatorSubtaskState, 'subtask'>]: Omit<
    OperatorSubtaskState,
    'subtask'
  >[K];
};

/**
 * Takes a subtask's part in checkpoints and restores it (Flink's `SubtaskCheckpointCoordinator`
 * and the restore half of `StreamTaskStateInitializer`): the synchronous snapshot of every
 * operator of the chain and of the source's splits, the barrier, the asynchronous upload of the
 * state files, the acknowledgement, and the notifications of completed and aborted checkpoints.
 */
export class SubtaskCheckpointer implements AlignedCheckpointHandler {
  /** While the synchronous phase of a checkpoint awaits (a sink's pre-commit), input and mail wait. */
  syncPhase: Promise<void> | undefined;
  private lastId = 0;
  /** Shared incremental files of the checkpoints in flight and of the last completed one, per operator uid. */
  private readonly chains = new Map<number, Map<string, KeyedStateFileHandle[]>>();
  private readonly completedChains = new Map<string, KeyedStateFileHandle[]>();
  /** Asynchronous phases in progress: they read the backends, which must stay open meanwhile. */
  private readonly uploads = new Set<Promise<void>>();
  /**
   * State files written per checkpoint, from its upload until the checkpoint completes or is
   * aborted. An upload that fails, or whose checkpoint was aborted meanwhile, deletes them: nobody
   * else knows they exist. So does an abort after the acknowledgement, which the coordinator's
   * cleanup may have missed when the upload ended after it.
   */
  private readonly written = new Map<
    number,
    { uris: string[]; aborted: boolean; acknowledged: boolean; targetDir: string }
  >();

  constructor(
    private readonly ctx: TaskContext,
    private readonly chain: OperatorChain,
    private readonly timeService: HoldableProcessingTimeService,
    private readonly restore: TaskRestore | undefined,
    private readonly source: SourceInput | undefined,
  ) {}

  lastCheckpointId(): number {
    return this.lastId;
  }

  setLastCheckpointId(checkpointId: number): void {
    this.lastId = checkpointId;
  }

  /** Source tasks: the coordinator triggered `checkpointId`; false when it is not newer than the last. */
  claim(checkpointId: number): boolean {
    if (checkpointId <= this.lastId) return false;
    this.lastId = checkpointId;
    return true;
  }

  /** Declines `checkpointId` because the task does not run (it is aborted, not failed). */
  declineNotRunning(checkpointId: number, why: string): void {
    const reason = new Error(`${this.ctx.name} is not running (${why})`);
    reason.name = TASK_NOT_RUNNING;
    this.ctx.services.checkpoints?.decline(
      this.ctx.vertex.id,
      this.ctx.subtaskIndex,
      checkpointId,
      reason,
    );
  }

  abortCheckpoint(checkpointId: number, reason: Error): void {
    this.chain.broadcastCancelBarrier(checkpointId);
    this.ctx.services.checkpoints?.decline(
      this.ctx.vertex.id,
      this.ctx.subtaskIndex,
      checkpointId,
      reason,
    );
  }

  cancelCheckpoint(checkpointId: number): void {
    this.chain.broadcastCancelBarrier(checkpointId);
  }

  /**
   * Snapshots the chain and forwards the barrier. The synchronous phase (operator states, keyed
   * snapshots, timers, source positions, then the barrier) runs while input, mail and
   * processing-time timers wait; the files are written afterwards while records flow.
   */
  triggerCheckpoint(
    checkpointId: number,
    options: CheckpointOptions,
    alignmentMs: number,
    inputState?: Promise<InputChannelState>,
  ): void {
    const cp = this.ctx.services.checkpoints;
    if (!cp) {
      this.chain.broadcastBarrier(checkpointId, options);
      return;
    }
    const started = performance.now();
    this.timeService.hold();
    let endSyncPhase!: () => void;
    this.syncPhase = new Promise((resolve) => (endSyncPhase = resolve));
    const endSync = (): void => {
      this.syncPhase = undefined;
      endSyncPhase();
      this.timeService.release();
    };
    this.snapshotSync(checkpointId, options, inputState).then(
      (pending) => {
        const syncMs = performance.now() - started;
        endSync();
        const written = {
          uris: [] as string[],
          aborted: false,
          acknowledged: false,
          targetDir: options.targetDir,
        };
        this.written.set(checkpointId, written);
        const upload = this.writeSnapshot(cp, checkpointId, options, pending, written.uris)
          .then(
            async ({ operators, size, persisted }) => {
              if (written.aborted) {
                await this.deleteWritten(cp, options.targetDir, written.uris);
                return;
              }
              cp.acknowledge(this.ctx.vertex.id, this.ctx.subtaskIndex, checkpointId, {
                operators,
                stateSize: size,
                syncDurationMs: syncMs,
                asyncDurationMs: performance.now() - started - syncMs,
                alignmentDurationMs: alignmentMs,
                unaligned: options.unaligned === true || persisted > 0,
                persistedBytes: persisted,
              });
              written.acknowledged = true;
            },
            async (e: unknown) => {
              for (const k of pending.keyed) k.snapshot.release();
              this.chains.delete(checkpointId);
              cp.decline(this.ctx.vertex.id, this.ctx.subtaskIndex, checkpointId, ensureError(e));
              await this.deleteWritten(cp, options.targetDir, written.uris);
            },
          )
          .finally(() => {
            if (!written.acknowledged) this.written.delete(checkpointId);
          });
        this.uploads.add(upload);
        void upload.finally(() => this.uploads.delete(upload));
      },
      (e: unknown) => {
        endSync();
        this.ctx.fail(e);
      },
    );
  }

  /**
   * Resolves when the asynchronous phases in progress ended (acknowledged or declined): a task
   * that finishes waits for them before it closes its state backends, whose snapshots they read.
   */
  async uploadsDone(): Promise<void> {
    while (this.uploads.size > 0) await Promise.allSettled([...this.uploads]);
  }

  /** Checkpoint `checkpointId` completed: backends may build on it, operators commit. */
  async notifyCheckpointComplete(checkpointId: number): Promise<void> {
    for (const [id, w] of this.written)
      if (id <= checkpointId && w.acknowledged) this.written.delete(id);
    const chains = this.chains.get(checkpointId);
    if (chains) {
      for (const [uid, chain] of chains) this.completedChains.set(uid, chain);
      for (const b of this.chain.backends.values()) b.notifyCheckpointComplete(checkpointId);
    }
    for (const id of [...this.chains.keys()]) if (id <= checkpointId) this.chains.delete(id);
    for (const node of this.chain.nodes) {
      await this.chain.operators.get(node.id)?.notifyCheckpointComplete(checkpointId);
    }
    this.source?.notifyCheckpointComplete(checkpointId);
  }

  /** Checkpoint `checkpointId` was aborted. */
  notifyCheckpointAborted(checkpointId: number): void {
    const written = this.written.get(checkpointId);
    if (written?.acknowledged) {
      this.written.delete(checkpointId);
      const cp = this.ctx.services.checkpoints;
      if (cp) void this.deleteWritten(cp, written.targetDir, written.uris);
    } else if (written) written.aborted = true;
    this.chain.abortBarrier(checkpointId);
    this.chains.delete(checkpointId);
    this.lastId = Math.max(this.lastId, checkpointId);
  }

  /**
   * Restores one operator of the chain before it opens: its keyed state and timers, then its
   * operator state (redistributed for this parallelism; empty on a fresh start). Keyed state
   * comes first, as in Flink's StreamOperatorStateHandler: initializeState of a user function
   * (a CheckpointedFunction) may register keyed state, which must find the restored backend.
   */
  readonly restoreOperator = async (
    node: StreamNode,
    op: AbstractStreamOperator<unknown>,
    backend: KeyedStateBackend | undefined,
  ): Promise<void> => {
    const restore = this.restore;
    const restored =
      restore && restoredOperatorState(restore, node.uid, this.ctx.subtaskIndex, node.parallelism);
    if (restore && restored && backend) {
      const range = KeyGroupRange.forOperatorIndex(
        node.maxParallelism,
        node.parallelism,
        this.ctx.subtaskIndex,
      );
      const fs = this.ctx.services.checkpoints!.fileSystem(restore.metadataDir);
      await restoreKeyedState(restore, fs, restored.operator, range, backend, (kg, timers) =>
        op.restoreTimers(kg, timers),
      );
    }
    op.initializeState(restored?.states ?? new Map());
  };

  /** The split positions restored for the source head, if any. */
  restoredSplits(node: StreamNode): SourceSplit[] {
    if (!this.restore) return [];
    const restored = restoredOperatorState(
      this.restore,
      node.uid,
      this.ctx.subtaskIndex,
      node.parallelism,
    );
    return (restored?.states.get(SOURCE_SPLITS_STATE)?.values as SourceSplit[] | undefined) ?? [];
  }

  /**
   * Restore: the subtask's channel state of an unaligned checkpoint, if any: the output state is
   * queued to go out first, the input state ahead of anything arriving on its channels. Refused
   * at a changed parallelism (in-flight data is not redistributed).
   */
  async restoreChannelState(
    graph: JobGraph,
    restoreInput: ((state: ChannelState['input']) => void) | undefined,
  ): Promise<void> {
    const restore = this.restore;
    if (!restore) return;
    const head = this.chain.headNode;
    const parallelism = new Map<string, number>();
    for (const v of graph.vertices) for (const n of v.nodes) parallelism.set(n.uid, v.parallelism);
    checkChannelStateParallelism(
      restore.metadata,
      (uid) => parallelism.get(uid),
      restore.metadataDir,
    );
    const handle = restore.metadata.operators
      .find((o) => o.uid === head.uid)
      ?.subtasks.find((s) => s.subtask === this.ctx.subtaskIndex)?.channelState;
    if (!handle) return;
    const uri = resolveRelative(restore.metadataDir, handle.path);
    const state = await readChannelState(
      this.ctx.services.checkpoints!.fileSystem(uri),
      uri,
      handle,
    );
    if (state.input.length > 0) {
      if (!restoreInput)
        throw new IllegalStateError(
          `${this.ctx.name}: input channel state for a task without inputs`,
        );
      restoreInput(state.input);
    }
    this.chain.restoreOutputState(state.output);
  }

  private async snapshotSync(
    checkpointId: number,
    options: CheckpointOptions,
    inputState: Promise<InputChannelState> | undefined,
  ): Promise<PendingSnapshot> {
    const nodes = this.chain.nodes;
    const operatorStates = new Map<string, EncodedOperatorState>();
    const snapshotCtx = { checkpointId, timestamp: options.timestamp };
    for (const node of nodes) {
      const op = this.chain.operators.get(node.id);
      if (!op) continue;
      const states = await op.snapshotOperatorState(snapshotCtx);
      if (states.size > 0) operatorStates.set(node.uid, encode(states));
    }
    if (this.source) {
      const splits = this.source.snapshotSplits(checkpointId);
      operatorStates.set(
        nodes[0]!.uid,
        encode(new Map([[SOURCE_SPLITS_STATE, { mode: 'split', values: splits }]])),
      );
    }
    const keyed: PendingSnapshot['keyed'] = [];
    for (const node of nodes) {
      const backend = this.chain.backends.get(node.id);
      if (!backend) continue;
      keyed.push({
        uid: node.uid,
        node,
        snapshot: backend.snapshot(checkpointId, options.savepoint ? 'canonical' : 'native'),
        timers: this.chain.operators.get(node.id)!.snapshotTimers(),
      });
    }
    const outputStates = this.chain.broadcastBarrier(checkpointId, options);
    return { operatorStates, keyed, outputStates, inputState };
  }

  /**
   * Deletes the state files of an upload that will not be acknowledged. Best effort: storage that
   * failed the write may fail this too; the coordinator deletes the checkpoint's directory as well.
   */
  private async deleteWritten(
    cp: TaskCheckpointServices,
    targetDir: string,
    uris: string[],
  ): Promise<void> {
    if (uris.length === 0) return;
    const fs = cp.fileSystem(targetDir);
    // The decline already reported the storage's failure; a second one says nothing new.
    for (const uri of uris) await fs.delete(uri).catch(() => undefined);
  }

  /** The asynchronous phase: materializes the snapshots and writes the state files. */
  private async writeSnapshot(
    cp: TaskCheckpointServices,
    checkpointId: number,
    options: CheckpointOptions,
    pending: PendingSnapshot,
    written: string[],
  ): Promise<{ operators: Record<string, SubtaskOperatorState>; size: number; persisted: number }> {
    const operators: Record<string, SubtaskOperatorState> = {};
    const fs = cp.fileSystem(options.targetDir);
    const subtask = this.ctx.subtaskIndex;
    let size = 0;
    for (const { uid, node, snapshot, timers } of pending.keyed) {
      const blocks = await snapshot.materialize();
      snapshot.release();
      const range = KeyGroupRange.forOperatorIndex(node.maxParallelism, node.parallelism, subtask);
      const { bytes, offsets } = assembleKeyedStateFile(range.startKeyGroup, blocks, timers);
      const shared = snapshot.kind !== 'canonical';
      const name = `${fileSafe(uid)}-${subtask}-${checkpointId}-${randomSuffix()}`;
      const uri = `${shared ? options.sharedDir : options.targetDir}/${name}`;
      // Listed before the write: a write that fails half-way may leave a partial file.
      written.push(uri);
      await fs.write(uri, bytes);
      size += bytes.length;
      const file: KeyedStateFileHandle = {
        path: shared ? `../shared/${name}` : name,
        kind: snapshot.kind,
        size: bytes.length,
        offsets,
      };
      let files = [file];
      if (snapshot.kind === 'level-delta') {
        const base = this.completedChains.get(uid);
        if (!base)
          throw new IllegalStateError(
            `${this.ctx.name}: an incremental snapshot without a completed base`,
          );
        files = [...base, file];
      }
      if (shared) {
        let chains = this.chains.get(checkpointId);
        if (!chains) this.chains.set(checkpointId, (chains = new Map()));
        chains.set(uid, files);
      }
      operators[uid] = {
        keyed: { keyGroupRange: [range.startKeyGroup, range.endKeyGroup], files },
      };
    }
    for (const [uid, state] of pending.operatorStates) {
      operators[uid] = { ...operators[uid], ...state };
    }
    // The ack waits for the channel state: the input state is complete once every channel's
    // barrier arrived, an output state once the barrier left (or overtook) the backlog.
    const output = new Map<string, OutputChannelState>();
    for (const [edge, state] of pending.outputStates) output.set(edge, await state);
    const input = (await pending.inputState) ?? [];
    const file = assembleChannelStateFile({ input, output });
    let persisted = 0;
    if (file) {
      const uid = this.chain.headNode.uid;
      const name = `${fileSafe(uid)}-${subtask}-${checkpointId}-channels-${randomSuffix()}`;
      const uri = `${options.targetDir}/${name}`;
      written.push(uri);
      await fs.write(uri, file.bytes);
      persisted = file.bytes.length;
      size += persisted;
      operators[uid] = {
        ...operators[uid],
        channelState: {
          format: CHANNEL_STATE_FORMAT,
          path: name,
          size: persisted,
          input: file.input,
          output: file.output,
        },
      };
    }
    return { operators, size, persisted };
  }
}

/**
 * Serializes operator states in the synchronous phase: the operator may change its objects as
 * soon as the snapshot returns, so the checkpoint must not hold references to them.
 */
function encode(states: OperatorStateSnapshot): EncodedOperatorState {
  const operatorState: Record<string, string> = {};
  const operatorStateModes: Record<string, OperatorStateMode> = {};
  for (const [name, { mode, values }] of states) {
    operatorState[name] = encodeOpaque(values);
    operatorStateModes[name] = mode;
  }
  return { operatorState, operatorStateModes };
}

function fileSafe(uid: string): string {
  return uid.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 80);
}

function randomSuffix(): string {
  return Math.floor(Math.random() * 2 ** 32)
    .toString(16)
    .padStart(8, '0');
}
