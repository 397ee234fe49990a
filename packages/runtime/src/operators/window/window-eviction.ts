import type { EvictableValue, Evictor, EvictorContext, Window } from '@nimble/api';
import { TimestampedValue } from '@nimble/api';

/**
 * How a window with an evictor keeps an element in its list state: the value and its timestamp
 * (Flink keeps the StreamRecord). A tuple, so both backends store it as they store any list
 * element (the level backend's codec keeps undefined, Map, Date, bigint and the like).
 */
export type StoredElement = readonly [value: unknown, timestamp: number | undefined];

/** One element of a pane as the evictor sees it; `remove()` marks it evicted. */
class PaneElement extends TimestampedValue<unknown> implements EvictableValue<unknown> {
  private removed = false;

  constructor(
    readonly stored: StoredElement,
    private readonly pane: Pane,
  ) {
    super(stored[0], stored[1]);
  }

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.pane.removedCount++;
  }

  isRemoved(): boolean {
    return this.removed;
  }
}

/**
 * The elements of one pane at a firing. Iterating skips removed elements, so an evictor may
 * remove while it iterates (Java's Iterator.remove()) and a second pass sees what is left.
 */
class Pane implements Iterable<PaneElement> {
  readonly elements: PaneElement[] = [];
  removedCount = 0;

  constructor(stored: Iterable<StoredElement>) {
    for (const element of stored) this.elements.push(new PaneElement(element, this));
  }

  get size(): number {
    return this.elements.length - this.removedCount;
  }

  *[Symbol.iterator](): Iterator<PaneElement> {
    for (const element of this.elements) if (!element.isRemoved()) yield element;
  }

  /** The values of the elements not removed, oldest first. */
  values(): unknown[] {
    const values: unknown[] = [];
    for (const element of this) values.push(element.getValue());
    return values;
  }

  /** The stored form of the elements not removed. */
  kept(): StoredElement[] {
    const kept: StoredElement[] = [];
    for (const element of this) kept.push(element.stored);
    return kept;
  }
}

/**
 * The evictor's part of a window firing (Flink's EvictingWindowOperator.emitWindowContents):
 * `evictBefore`, the window function over the remaining values, `evictAfter`. Returns the
 * elements to write back to the window's state, or undefined when the evictor removed nothing
 * (the state is unchanged then; Flink rewrites it regardless).
 */
export function evaluateWithEvictor(
  evictor: Evictor<unknown, Window>,
  context: EvictorContext,
  window: Window,
  stored: Iterable<StoredElement>,
  windowFunction: (values: unknown[]) => void,
): StoredElement[] | undefined {
  const pane = new Pane(stored);
  evictor.evictBefore(pane, pane.size, window, context);
  windowFunction(pane.values());
  evictor.evictAfter(pane, pane.size, window, context);
  return pane.removedCount > 0 ? pane.kept() : undefined;
}
