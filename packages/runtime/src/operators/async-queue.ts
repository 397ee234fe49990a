/**
 * The element queues of the async wait operator (Flink's `OrderedStreamElementQueue` and
 * `UnorderedStreamElementQueue`): which issued records and which watermarks may leave, and when.
 * Both keep the records that have not left in a linked list in input order, which is also issue
 * order: a checkpoint writes them in that order and the timeout scan walks it.
 */

/** A watermark or an idleness change that waits behind records (Flink's `WatermarkQueueEntry`). */
export class Marker {
  constructor(
    readonly kind: 'watermark' | 'status',
    /** The watermark, or 1 for idle and 0 for active. */
    public value: number,
  ) {}
}

/** What the queues need of a record entry. */
export interface QueueEntry<E extends QueueEntry<E>> {
  prev: E | undefined;
  next: E | undefined;
  /** Unordered queue: the segment the record belongs to. */
  segment: Segment<E> | undefined;
  /** Ordered queue: markers that follow this record. */
  markers: Marker[] | undefined;
}

/** Unordered queue: the records between two markers, and the markers after them. */
export interface Segment<E> {
  /** Records of the segment that have not left. */
  count: number;
  /** Completed records that wait for earlier segments. */
  readonly done: E[];
  /** The markers that close the segment (empty while it is the open tail). */
  readonly markers: Marker[];
}

/** Where elements leave the queue. */
export interface QueueOutput<E> {
  record(entry: E): void;
  marker(marker: Marker): void;
}

/** The records that have not left, in input order, and the emission rule of an output mode. */
export abstract class AsyncElementQueue<E extends QueueEntry<E>> {
  /** The oldest record that has not left. */
  head: E | undefined;
  tail: E | undefined;
  /** Records issued and not yet left: what counts against the capacity. */
  size = 0;

  /** Appends an issued record. */
  add(entry: E): void {
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    this.size++;
  }

  /**
   * Queues a marker behind the records issued before it; false when no record is queued, and
   * the caller emits the marker at once.
   */
  abstract addMarker(marker: Marker): boolean;

  /** `entry` completed for good: it leaves now, or when the emission rule lets it. */
  abstract completed(entry: E, out: QueueOutput<E>): void;

  /** Emits what the emission rule lets go after completions. */
  abstract emitReady(out: QueueOutput<E>): void;

  protected unlink(entry: E): void {
    const { prev, next } = entry;
    if (prev === undefined) this.head = next;
    else prev.next = next;
    if (next === undefined) this.tail = prev;
    else next.prev = prev;
    entry.prev = entry.next = undefined;
    this.size--;
  }
}

/** Adds `marker` to `markers`; consecutive watermarks collapse into the latest, which is all a consumer needs. */
function pushMarker(markers: Marker[], marker: Marker): void {
  const last = markers[markers.length - 1];
  if (last !== undefined && last.kind === 'watermark' && marker.kind === 'watermark') {
    last.value = marker.value;
  } else {
    markers.push(marker);
  }
}

/** Ordered mode: records leave in input order; a marker leaves right after the record before it. */
export class OrderedElementQueue<E extends QueueEntry<E>> extends AsyncElementQueue<E> {
  /** `done` tells whether a record's result is in. */
  constructor(private readonly done: (entry: E) => boolean) {
    super();
  }

  addMarker(marker: Marker): boolean {
    const tail = this.tail;
    if (tail === undefined) return false;
    pushMarker((tail.markers ??= []), marker);
    return true;
  }

  completed(): void {
    // The record leaves when it reaches the head (emitReady).
  }

  emitReady(out: QueueOutput<E>): void {
    for (let e = this.head; e !== undefined && this.done(e); e = this.head) {
      this.unlink(e);
      out.record(e);
      const markers = e.markers;
      if (markers !== undefined) {
        e.markers = undefined;
        for (const m of markers) out.marker(m);
      }
    }
  }
}

/**
 * Unordered mode: records leave as they complete, within segments separated by markers (Flink's
 * watermarks as barriers): a segment's records leave only after every earlier segment and its
 * closing markers left, so no record overtakes a watermark and no watermark overtakes a record.
 */
export class UnorderedElementQueue<E extends QueueEntry<E>> extends AsyncElementQueue<E> {
  /** Oldest first; the last one is open and takes new records. */
  private readonly segments: Segment<E>[] = [newSegment()];

  override add(entry: E): void {
    super.add(entry);
    const open = this.segments[this.segments.length - 1]!;
    open.count++;
    entry.segment = open;
  }

  addMarker(marker: Marker): boolean {
    if (this.size === 0) return false;
    const segments = this.segments;
    const open = segments[segments.length - 1]!;
    if (open.count === 0) {
      // No record since the previous segment closed: the marker joins its closing markers.
      pushMarker(segments[segments.length - 2]!.markers, marker);
    } else {
      open.markers.push(marker);
      segments.push(newSegment());
    }
    return true;
  }

  completed(entry: E, out: QueueOutput<E>): void {
    const segment = entry.segment!;
    if (segment === this.segments[0]) this.leave(entry, segment, out);
    else segment.done.push(entry);
  }

  emitReady(out: QueueOutput<E>): void {
    const segments = this.segments;
    for (;;) {
      const first = segments[0]!;
      if (first.count > 0 || segments.length === 1) return;
      segments.shift();
      for (const m of first.markers) out.marker(m);
      const next = segments[0]!;
      const done = next.done;
      for (let i = 0; i < done.length; i++) this.leave(done[i]!, next, out);
      done.length = 0;
    }
  }

  private leave(entry: E, segment: Segment<E>, out: QueueOutput<E>): void {
    segment.count--;
    entry.segment = undefined;
    this.unlink(entry);
    out.record(entry);
  }
}

function newSegment<E>(): Segment<E> {
  return { count: 0, done: [], markers: [] };
}
