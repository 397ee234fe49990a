import type { SubtaskCheckpointState__Output } from '@nimble/proto';
import type {
  ChannelStateEntry,
  ChannelStateHandle,
  KeyedStateFileHandle,
  KeyedStateHandle,
  SubtaskCheckpointAck,
} from '@nimble/runtime';

type OperatorStateMode = 'split' | 'union' | 'broadcast';

const KINDS: ReadonlySet<string> = new Set(['canonical', 'level-full', 'level-delta']);
const MODES: ReadonlySet<string> = new Set(['split', 'union', 'broadcast']);

/**
 * Checks the state a subtask acknowledged (the wire's SubtaskCheckpointState) and turns it into
 * the runtime's {@link SubtaskCheckpointAck}. The error names the field at fault. Paths are
 * checked against the checkpoint's directories by the coordinator, which knows them.
 */
export function parseCheckpointAck(
  state: SubtaskCheckpointState__Output | null,
): SubtaskCheckpointAck {
  if (!state) throw new Error('state is missing');
  const operators: Record<string, SubtaskCheckpointAck['operators'][string]> = {};
  for (const [uid, op] of Object.entries(state.operators)) {
    const where = `state.operators[${JSON.stringify(uid)}]`;
    let keyed: KeyedStateHandle | undefined;
    if (op.keyed) {
      const range = op.keyed.keyGroupRange;
      if (range.length !== 2 || range[0]! > range[1]!) {
        throw new Error(
          `${where}.keyed.keyGroupRange: expected [first, last], got [${range.join(', ')}]`,
        );
      }
      const groups = range[1]! - range[0]! + 1;
      const files = op.keyed.files.map((f, i) => {
        const at = `${where}.keyed.files[${i}]`;
        if (!KINDS.has(f.kind))
          throw new Error(`${at}.kind: unknown kind ${JSON.stringify(f.kind)}`);
        if (!(f.size >= 0) || f.offsets.length !== groups + 1 || !f.offsets.every((o) => o >= 0)) {
          throw new Error(`${at}: size and ${groups + 1} offsets expected`);
        }
        return {
          path: f.path,
          kind: f.kind as KeyedStateFileHandle['kind'],
          size: f.size,
          offsets: f.offsets,
        };
      });
      if (files.length === 0) throw new Error(`${where}.keyed.files: empty`);
      keyed = { keyGroupRange: [range[0]!, range[1]!], files };
    }
    for (const [name, mode] of Object.entries(op.operatorStateModes)) {
      if (!MODES.has(mode)) {
        throw new Error(
          `${where}.operatorStateModes[${JSON.stringify(name)}]: unknown mode ${JSON.stringify(mode)}`,
        );
      }
    }
    let channelState: ChannelStateHandle | undefined;
    if (op.channelState) {
      const cs = op.channelState;
      const entries = (list: typeof cs.input, field: string): ChannelStateEntry[] =>
        list.map((e, i) => {
          if (!e.sizes.every((n) => n >= 0))
            throw new Error(`${where}.channelState.${field}[${i}].sizes: expected sizes >= 0`);
          return { ...(e.edge ? { edge: e.edge } : {}), channel: e.channel, sizes: [...e.sizes] };
        });
      if (!(cs.size >= 0)) throw new Error(`${where}.channelState.size: expected a number >= 0`);
      channelState = {
        format: cs.format,
        path: cs.path,
        size: cs.size,
        input: entries(cs.input, 'input'),
        output: entries(cs.output, 'output'),
      };
    }
    operators[uid] = {
      ...(keyed ? { keyed } : {}),
      ...(channelState ? { channelState } : {}),
      ...(Object.keys(op.operatorState).length > 0 ? { operatorState: op.operatorState } : {}),
      ...(Object.keys(op.operatorStateModes).length > 0
        ? { operatorStateModes: op.operatorStateModes as Record<string, OperatorStateMode> }
        : {}),
    };
  }
  for (const f of [
    'stateSize',
    'syncDurationMs',
    'asyncDurationMs',
    'alignmentDurationMs',
  ] as const) {
    if (!(state[f] >= 0)) throw new Error(`state.${f}: expected a number >= 0`);
  }
  return {
    operators,
    stateSize: state.stateSize,
    syncDurationMs: state.syncDurationMs,
    asyncDurationMs: state.asyncDurationMs,
    alignmentDurationMs: state.alignmentDurationMs,
    unaligned: state.unaligned,
    persistedBytes: state.persistedBytes,
  };
}
