/**
 * Names a side output of an operator. Tags are equal when their ids are equal.
 *
 * ```ts
 * const late = new OutputTag<Purchase>('late-purchases');
 * ```
 */
export class OutputTag<T> {
  /** @internal */
  declare readonly __type?: T;

  constructor(readonly id: string) {
    if (typeof id !== 'string' || id.length === 0) {
      throw new TypeError('An OutputTag needs a non-empty id');
    }
  }

  /** The tag's id. */
  getId(): string {
    return this.id;
  }

  /** Whether `other` names the same side output. */
  equals(other: OutputTag<unknown>): boolean {
    return other.id === this.id;
  }
}
