import type {
  Evictor,
  OutputTag,
  Trigger,
  Window,
  WindowAssigner,
  WindowFunctionSpec,
} from '@nimble/api';
import { Duration } from '@nimble/api';
import type { WindowOperatorSpec } from '../../src/operators/window/window-operator.js';
import { CONTENTS_STATE_NAME } from '../../src/operators/window/window-operator.js';
import { ALIGNED_STATE_NAME } from '../../src/operators/window/aligned-window-operator.js';
import type { KeyedStateBackend } from '../../src/state/index.js';

/** The records of the window tests: a key and a number. */
export type Rec = [key: string, n: number];

export const ms = Duration.ofMillis;
export const sum = (a: Rec, b: Rec): Rec => [a[0], a[1] + b[1]];

/** A window operator spec as `WindowedStream` builds it. */
export function spec(
  assigner: WindowAssigner<any, Window>,
  fn: WindowFunctionSpec,
  options: {
    lateness?: number;
    lateTag?: OutputTag<Rec>;
    trigger?: Trigger<any, Window>;
    evictor?: Evictor<any, Window>;
  } = {},
): WindowOperatorSpec {
  return {
    kind: 'window',
    assigner,
    trigger: options.trigger,
    allowedLatenessMillis: options.lateness ?? 0,
    lateDataTag: options.lateTag,
    fn,
    evictor: options.evictor,
  };
}

/**
 * The window tests run on both window operators: the aligned fast path (tumbling and sliding
 * event-time windows that reduce or aggregate) and the general one, on both backends. Specs the
 * aligned operator does not take run on the general one in both rows.
 */
export const WINDOW_PATHS = (['hashmap', 'level'] as const).flatMap((backend) =>
  (['aligned', 'general'] as const).map((path) => ({
    backend,
    path,
    aligned: path === 'aligned',
  })),
);

/**
 * Stored entries of `state`; for the general operator's 'window-contents' also the aligned
 * operator's per-key entries, so a test of "no window state left" holds on both paths.
 */
export async function storedWindowEntries(
  h: { backend?: KeyedStateBackend | undefined },
  state: string,
): Promise<number> {
  const backend = h.backend!;
  await backend.flush();
  const count = await backend.numStoredEntries!(state);
  if (state !== CONTENTS_STATE_NAME) return count;
  return count + (await backend.numStoredEntries!(ALIGNED_STATE_NAME));
}
