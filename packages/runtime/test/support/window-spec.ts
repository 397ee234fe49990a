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
