/**
 * Names an operator of a savepoint (Flink's `OperatorIdentifier`). Savepoints match state to
 * operators by uid, so the identifier is the uid the job gives the operator with `.uid(...)`.
 * An operator without one gets a generated uid, `auto-<id>-<name>` (see the job's plan), which
 * changes when the job's code changes: give stateful operators a uid.
 */
export class OperatorIdentifier {
  private constructor(readonly uid: string) {}

  /** The operator whose uid is `uid`. */
  static forUid(uid: string): OperatorIdentifier {
    if (typeof uid !== 'string' || uid === '') {
      throw new TypeError(
        `OperatorIdentifier.forUid: the uid must be a non-empty string; got ${JSON.stringify(uid)}`,
      );
    }
    return new OperatorIdentifier(uid);
  }

  toString(): string {
    return `uid ${JSON.stringify(this.uid)}`;
  }
}
