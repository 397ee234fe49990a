import type { MergingWindowAssigner, Window } from '@nimble/api';
import { IllegalStateError } from '../../errors.js';
import { windowFromNamespace, windowNamespace } from './window-namespace.js';

/**
 * How a key's merging window set is kept in keyed state: namespaces, flattened as
 * `[window0, stateWindow0, window1, stateWindow1, ...]` (one small array to write per change).
 */
export type PersistedMergingWindows = readonly string[];

/**
 * Called when windows merge: `mergeResult` replaces `mergedWindows` (the pre-existing windows it
 * covers; never the newly added window, which has no state yet). The contents of
 * `mergedStateWindows` must be merged into `stateWindowResult`.
 */
export type MergeFunction<W extends Window> = (
  mergeResult: W,
  mergedWindows: readonly W[],
  stateWindowResult: string,
  mergedStateWindows: readonly string[],
) => void;

/**
 * The in-flight windows of one key of a merging assigner (Flink's `MergingWindowSet`).
 *
 * Each window maps to a *state window*: the namespace its contents are kept under. When windows
 * merge, the result takes over the state window of one of them and the others' contents are merged
 * into it, so a growing session never moves its contents; only the small mapping changes. The
 * mapping is read from keyed state for each element or timer and written back by {@link persist}.
 */
export class MergingWindowSet<W extends Window> {
  // Parallel arrays: a key has few windows in flight (usually one session), so a linear scan beats
  // building maps for each element.
  private readonly windows: W[] = [];
  private readonly namespaces: string[] = [];
  private readonly stateWindows: string[] = [];
  private changed = false;

  constructor(
    private readonly assigner: MergingWindowAssigner<unknown, W>,
    persisted: PersistedMergingWindows | undefined,
  ) {
    if (persisted === undefined) return;
    for (let i = 0; i + 1 < persisted.length; i += 2) {
      const namespace = persisted[i]!;
      this.windows.push(windowFromNamespace(namespace) as W);
      this.namespaces.push(namespace);
      this.stateWindows.push(persisted[i + 1]!);
    }
  }

  /** The state window of the in-flight window `window`, or undefined when it is not in flight. */
  getStateWindow(window: string): string | undefined {
    const i = this.namespaces.indexOf(window);
    return i < 0 ? undefined : this.stateWindows[i];
  }

  /** Removes a window that is cleaned up (or was late on arrival). */
  retireWindow(window: string): void {
    if (this.remove(window) === undefined) {
      throw new IllegalStateError(`Window ${window} is not in the in-flight window set`);
    }
  }

  /**
   * Adds `newWindow`, merging it with the in-flight windows it overlaps. Returns the window the
   * element now belongs to: `newWindow` itself or the result of the merge it took part in.
   */
  addWindow(newWindow: W, mergeFunction: MergeFunction<W>): W {
    const newNs = windowNamespace(newWindow);
    let merges: { result: W; members: W[] }[] | undefined;
    if (this.windows.length > 0) {
      this.assigner.mergeWindows(this.windows.concat(newWindow), (members, result) => {
        (merges ??= []).push({ result, members });
      });
    }

    let resultWindow = newWindow;
    let mergedNewWindow = false;
    for (const { result, members } of merges ?? []) {
      const resultNs = windowNamespace(result);
      // The pre-existing windows of this merge: the new window has no state or trigger state yet.
      const mergedWindows: W[] = [];
      const mergedNs: string[] = [];
      for (const member of members) {
        const ns = windowNamespace(member);
        if (!mergedNewWindow && ns === newNs) {
          mergedNewWindow = true;
          resultWindow = result;
          continue;
        }
        mergedWindows.push(member);
        mergedNs.push(ns);
      }
      const firstMerged = mergedNs[0];
      if (firstMerged === undefined) continue;
      // The merge result keeps the state window of one of the merged windows (as Flink: the first).
      const stateWindowResult = this.getStateWindow(firstMerged);
      if (stateWindowResult === undefined) {
        throw new IllegalStateError(`Window ${firstMerged} is not in the in-flight window set`);
      }
      const mergedStateWindows: string[] = [];
      for (const ns of mergedNs) {
        const stateWindow = this.remove(ns);
        if (stateWindow !== undefined && stateWindow !== stateWindowResult)
          mergedStateWindows.push(stateWindow);
      }
      this.put(result, resultNs, stateWindowResult);

      // A new window inside one existing window changes nothing: there is nothing to merge.
      if (!(mergedNs.length === 1 && firstMerged === resultNs)) {
        mergeFunction(result, mergedWindows, stateWindowResult, mergedStateWindows);
      }
    }

    // A new, self-contained window: it is its own state window.
    if (!mergedNewWindow) this.put(newWindow, newNs, newNs);
    return resultWindow;
  }

  /** The set to write back to keyed state, or undefined when nothing changed since it was read. */
  toPersist(): PersistedMergingWindows | undefined {
    if (!this.changed) return undefined;
    this.changed = false;
    const persisted: string[] = [];
    for (let i = 0; i < this.namespaces.length; i++)
      persisted.push(this.namespaces[i]!, this.stateWindows[i]!);
    return persisted;
  }

  private put(window: W, namespace: string, stateWindow: string): void {
    const i = this.namespaces.indexOf(namespace);
    if (i >= 0) {
      this.windows[i] = window;
      this.stateWindows[i] = stateWindow;
    } else {
      this.windows.push(window);
      this.namespaces.push(namespace);
      this.stateWindows.push(stateWindow);
    }
    this.changed = true;
  }

  /** Removes `namespace`; returns its state window, or undefined when it was not in flight. */
  private remove(namespace: string): string | undefined {
    const i = this.namespaces.indexOf(namespace);
    if (i < 0) return undefined;
    const stateWindow = this.stateWindows[i];
    this.windows.splice(i, 1);
    this.namespaces.splice(i, 1);
    this.stateWindows.splice(i, 1);
    this.changed = true;
    return stateWindow;
  }
}
