import type { Window } from '@nimble/api';
import { GlobalWindow, TimeWindow } from '@nimble/api';
import { IllegalStateError, JobDefinitionError } from '../../errors.js';

/**
 * Keyed state and timers of a window live under a string namespace that names the window (Flink
 * serializes the window itself as the namespace). `''` is the key's namespace outside any window
 * (Flink's VoidNamespace), so no window may encode to it.
 */
export const GLOBAL_NAMESPACE = '';

// A TimeWindow always encodes with a ':' and the global namespace is empty, so this cannot collide.
const GLOBAL_WINDOW_NAMESPACE = 'global-window';

let lastStart = Number.NaN;
let lastEnd = Number.NaN;
let lastNamespace = '';

/** The namespace of `window`: `start:end` for a {@link TimeWindow}, a constant for the {@link GlobalWindow}. */
export function windowNamespace(window: Window): string {
  if (window instanceof TimeWindow) {
    // Consecutive elements mostly fall into the same window: reuse its string instead of building one per element.
    if (window.start === lastStart && window.end === lastEnd) return lastNamespace;
    lastStart = window.start;
    lastEnd = window.end;
    lastNamespace = `${window.start}:${window.end}`;
    return lastNamespace;
  }
  if (window === GlobalWindow.INSTANCE) return GLOBAL_WINDOW_NAMESPACE;
  throw new JobDefinitionError(
    `Window operator: windows of type ${window?.constructor?.name ?? typeof window} are not supported; ` +
      'window assigners must produce TimeWindow or GlobalWindow',
  );
}

/** The window a namespace names (the inverse of {@link windowNamespace}), for timer callbacks. */
export function windowFromNamespace(namespace: string): Window {
  if (namespace === GLOBAL_WINDOW_NAMESPACE) return GlobalWindow.INSTANCE;
  // The start may be negative, but neither number contains ':', so the first one separates them.
  const sep = namespace.indexOf(':');
  const start = Number(namespace.slice(0, sep));
  const end = Number(namespace.slice(sep + 1));
  if (sep < 0 || !Number.isFinite(start) || !Number.isFinite(end)) {
    throw new IllegalStateError(`Not a window namespace: '${namespace}'`);
  }
  return new TimeWindow(start, end);
}
