import type {
  AllWindowFunction,
  Collector,
  ProcessAllWindowFunction,
  ProcessWindowContext,
  RuntimeContext,
  WindowFunction,
} from './functions.js';
import { ProcessWindowFunction } from './functions.js';
import type { Window } from './windowing.js';

// `windowAll` is a keyed window operator over one constant key, run as a single subtask (Flink's
// AllWindowedStream: keyBy(NullByteKeySelector) + forceNonParallel). The all-window functions are
// adapted here to the keyed window functions the window operator calls, so the runtime has one
// window operator for both.

/** The key of every element of a `windowAll` stream (Flink's NullByteKeySelector). @internal */
export const NULL_KEY_SELECTOR = (): number => 0;

/**
 * A {@link ProcessAllWindowFunction} as the window operator's {@link ProcessWindowFunction}:
 * lifecycle and runtime context go to the wrapped function; the window context is passed as is
 * (it has everything a ProcessAllWindowFunction's context has). @internal
 */
export class ProcessAllWindowFunctionAdapter<
  IN,
  OUT,
  W extends Window,
> extends ProcessWindowFunction<IN, OUT, number, W> {
  constructor(readonly fn: ProcessAllWindowFunction<IN, OUT, W>) {
    super();
  }
  override setRuntimeContext(ctx: RuntimeContext): void {
    super.setRuntimeContext(ctx);
    this.fn.setRuntimeContext(ctx);
  }
  override open(ctx: RuntimeContext): void {
    this.fn.open(ctx);
  }
  override close(): void {
    this.fn.close();
  }
  process(
    _key: number,
    context: ProcessWindowContext<W>,
    elements: Iterable<IN>,
    out: Collector<OUT>,
  ): void {
    this.fn.process(context, elements, out);
  }
  override clear(context: ProcessWindowContext<W>): void {
    this.fn.clear(context);
  }
}

/** An {@link AllWindowFunction} as a keyed {@link WindowFunction}. @internal */
export function allWindowFunctionAdapter<IN, OUT, W extends Window>(
  fn: AllWindowFunction<IN, OUT, W>,
): WindowFunction<IN, OUT, number, W> {
  return (_key, window, elements, out) => fn(window, elements, out);
}
