import { Buffer } from 'node:buffer';
import { deserialize, serialize } from 'node:v8';

/**
 * The wire form of a network buffer: a sequence of elements, three values each:
 *
 *   RECORD            [0, timestamp | undefined, value]
 *   KEYED RECORD      [16 + keyGroup, timestamp | undefined, value]   (hash partitioning: the
 *                     consumer reuses the producer's key group instead of hashing the key again)
 *   WATERMARK         [1, watermark, 0]
 *   WATERMARK_STATUS  [2, idle (boolean), 0]
 *   END_OF_PARTITION  [3, 0, 0]
 *   BARRIER           [4, checkpointId, options]   (always the last element of its buffer)
 *   CANCEL_BARRIER    [5, checkpointId, 0]         (the checkpoint was aborted upstream)
 *
 * The first byte names the format (docs/serialization.md has the measurements behind it):
 *
 *   0x01  Nimble's tagged format (below): primitives, arrays, plain objects, Date, Map, Set.
 *   0xFE  a priority event: the barrier of an unaligned checkpoint alone, V8-serialized after
 *         the format byte; it overtakes the buffers queued before it (docs/checkpoints.md).
 *   0xFF  one V8-serialized flat array of the elements (0xFF is V8's version tag): the fallback
 *         for a buffer holding anything else (typed arrays, RegExp, class instances, cycles).
 *
 * Records are structured-cloneable data: plain objects, arrays, strings, numbers, bigints,
 * booleans, null/undefined, Date, Map, Set, typed arrays. Class instances arrive as plain objects.
 */
export const ElementKind = {
  RECORD: 0,
  WATERMARK: 1,
  WATERMARK_STATUS: 2,
  END_OF_PARTITION: 3,
  BARRIER: 4,
  CANCEL_BARRIER: 5,
  /** Kinds from here on are records of key group `kind - KEYED_RECORD_BASE`. */
  KEYED_RECORD_BASE: 16,
} as const;

/** Receives the elements of a decoded buffer. */
export interface ElementHandler {
  /** `keyGroup` is -1 unless the record was hash-partitioned. */
  record(value: unknown, timestamp: number | undefined, keyGroup: number): void;
  watermark(watermark: number): void;
  watermarkStatus(idle: boolean): void;
  endOfPartition(): void;
  /** A checkpoint barrier; nothing follows it in its buffer. */
  barrier(checkpointId: number, options: CheckpointOptions): void;
  cancelBarrier(checkpointId: number): void;
}

/** What a barrier carries besides its checkpoint id. */
export interface CheckpointOptions {
  /** When the JobManager triggered the checkpoint (epoch ms). */
  readonly timestamp: number;
  /** A savepoint writes the canonical format into a self-contained directory. */
  readonly savepoint: boolean;
  /** URI of the directory the subtasks write their files into (`chk-<n>` or the savepoint's). */
  readonly targetDir: string;
  /** URI of the job's directory of shared incremental files. */
  readonly sharedDir: string;
  /** Sources emit the final watermark before the barrier (stop with savepoint --drain). */
  readonly drain?: boolean;
  /**
   * Aligned whatever the job's checkpoints are: the checkpoint a rescale restores from, which
   * must hold no in-flight data (see `hasChannelState`).
   */
  readonly aligned?: boolean;
  /**
   * The barrier overtakes in-flight buffers (a priority event) and those buffers are persisted
   * with the checkpoint (`execution.checkpointing.unaligned.enabled`). Never for savepoints.
   */
  readonly unaligned?: boolean;
  /**
   * An aligned barrier that may turn unaligned: alignment not done this many ms after the
   * trigger switches the checkpoint to unaligned (`execution.checkpointing.aligned-checkpoint-timeout`).
   */
  readonly alignedCheckpointTimeoutMs?: number;
}

// ---- the tagged format ------------------------------------------------------------------------
//
// After the format byte, each element is `varint(kind) value value`. A value is one tag byte and
// its payload (integers little-endian):
//
//   0x00 undefined   0x01 null   0x02 false   0x03 true
//   0x04 int32 (4 bytes)         0x05 float64 (8 bytes: -0, NaN and fractions)
//   0x06 one-byte string, varint length, its bytes (chars <= 0xFF, longer than 127)
//   0x07 string, varint length in UTF-16 code units, UTF-16LE (exact, lone surrogates too)
//   0x08 array, varint length, the elements
//   0x09 object of a shape defined earlier in this buffer: varint shape index, the values
//   0x0A object of a new shape: varint key count, the keys (string values), the values
//   0x0B bigint, varint length, its decimal digits      0x0C Date, float64 time value
//   0x0D Map, varint size, key value ...                0x0E Set, varint size, values
//   0x40 | n  the integer n (0..63)
//   0x80 | n  a one-byte string of n (0..127) chars, its bytes
//
// Object keys are written once per buffer and shape (the `0x0A` form), so records of one type
// cost their values only. The tagged format keeps the values as structured cloning does, except
// that a value reached twice within one record arrives as two equal copies (V8 keeps the
// sharing) and an array's non-index properties are dropped.

const TAGGED_FORMAT = 0x01;
/** A priority event (an unaligned barrier): V8-serialized elements after the format byte. */
const PRIORITY_FORMAT = 0xfe;
const V8_FORMAT = 0xff;

const T_UNDEFINED = 0x00;
const T_NULL = 0x01;
const T_FALSE = 0x02;
const T_TRUE = 0x03;
const T_INT32 = 0x04;
const T_FLOAT64 = 0x05;
const T_STRING8 = 0x06;
const T_STRING16 = 0x07;
const T_ARRAY = 0x08;
const T_OBJECT = 0x09;
const T_SHAPE = 0x0a;
const T_BIGINT = 0x0b;
const T_DATE = 0x0c;
const T_MAP = 0x0d;
const T_SET = 0x0e;
const T_FIXINT = 0x40;
const T_SHORT_STRING8 = 0x80;

/** Deeper values (or cycles) go to V8's serializer. */
const MAX_DEPTH = 64;
/** More distinct object shapes in one buffer go to V8's serializer. */
const MAX_SHAPES = 256;
/** After a buffer fell back to V8, this thread's next buffers go there straight away. */
const V8_STREAK = 64;
/** The scratch buffer is kept between buffers up to this size. */
const MAX_KEPT_SCRATCH = 1 << 20;

const ONE_BYTE = /^[\0-\xff]*$/;

/** Thrown inside the encoder for a value the tagged format does not carry. */
const UNSUPPORTED = new Error('internal: value not supported by the tagged format');

/** Writes one buffer at a time into a scratch buffer kept by the thread. */
class TaggedWriter {
  buf = Buffer.allocUnsafeSlow(64 * 1024);
  view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  pos = 0;
  /** The key lists of the shapes defined in the current buffer. */
  shapes: string[][] = [];
  lastShape = -1;

  encode(elements: unknown[], length: number): Buffer {
    this.pos = 0;
    this.shapes.length = 0;
    this.lastShape = -1;
    this.ensure(1);
    this.buf[this.pos++] = TAGGED_FORMAT;
    for (let i = 0; i < length; i += 3) {
      this.ensure(5);
      this.varint(elements[i] as number);
      this.value(elements[i + 1], 0);
      this.value(elements[i + 2], 0);
    }
    const out = Buffer.allocUnsafeSlow(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    if (this.buf.length > MAX_KEPT_SCRATCH) this.resize(64 * 1024);
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.resize(Math.max(this.buf.length * 2, this.pos + n));
  }

  private resize(size: number): void {
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, Math.min(this.pos, size));
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  private varint(n: number): void {
    const buf = this.buf;
    while (n >= 0x80) {
      buf[this.pos++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    buf[this.pos++] = n;
  }

  private value(v: unknown, depth: number): void {
    this.ensure(10);
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.buf[this.pos++] = v ? T_TRUE : T_FALSE;
        return;
      case 'undefined':
        this.buf[this.pos++] = T_UNDEFINED;
        return;
      case 'bigint': {
        const digits = v.toString();
        this.buf[this.pos++] = T_BIGINT;
        this.varint(digits.length);
        this.ensure(digits.length);
        this.pos += this.buf.write(digits, this.pos, digits.length, 'latin1');
        return;
      }
      case 'object':
        if (v === null) {
          this.buf[this.pos++] = T_NULL;
          return;
        }
        if (depth >= MAX_DEPTH) throw UNSUPPORTED;
        if (Array.isArray(v)) {
          this.array(v, depth + 1);
          return;
        }
        this.object(v, depth + 1);
        return;
      default:
        throw UNSUPPORTED;
    }
  }

  private number(v: number): void {
    const buf = this.buf;
    if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
      if (v >= 0 && v < 64) {
        buf[this.pos++] = T_FIXINT | v;
      } else {
        buf[this.pos] = T_INT32;
        this.view.setInt32(this.pos + 1, v, true);
        this.pos += 5;
      }
    } else {
      buf[this.pos] = T_FLOAT64;
      this.view.setFloat64(this.pos + 1, v, true);
      this.pos += 9;
    }
  }

  private string(s: string): void {
    const n = s.length;
    if (n < 128) {
      this.ensure(n + 1);
      const buf = this.buf;
      const start = this.pos;
      let p = start + 1;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0xff) {
          this.string16(s);
          return;
        }
        buf[p++] = c;
      }
      buf[start] = T_SHORT_STRING8 | n;
      this.pos = p;
    } else if (ONE_BYTE.test(s)) {
      this.ensure(n + 6);
      this.buf[this.pos++] = T_STRING8;
      this.varint(n);
      this.pos += this.buf.write(s, this.pos, n, 'latin1');
    } else {
      this.string16(s);
    }
  }

  private string16(s: string): void {
    const n = s.length;
    this.ensure(2 * n + 6);
    this.buf[this.pos++] = T_STRING16;
    this.varint(n);
    this.pos += this.buf.write(s, this.pos, 2 * n, 'utf16le');
  }

  private array(a: unknown[], depth: number): void {
    const n = a.length;
    this.buf[this.pos++] = T_ARRAY;
    this.varint(n);
    for (let i = 0; i < n; i++) {
      const e = a[i];
      // A hole must stay a hole: V8 keeps it, the tagged format cannot.
      if (e === undefined && !(i in a)) throw UNSUPPORTED;
      this.value(e, depth);
    }
  }

  private object(o: object, depth: number): void {
    const proto = Object.getPrototypeOf(o) as unknown;
    if (proto === Object.prototype || proto === null) {
      this.plainObject(o as Record<string, unknown>, depth);
    } else if (o instanceof Date) {
      this.buf[this.pos] = T_DATE;
      this.view.setFloat64(this.pos + 1, o.getTime(), true);
      this.pos += 9;
    } else if (o instanceof Map) {
      this.buf[this.pos++] = T_MAP;
      this.varint(o.size);
      for (const [k, v] of o as Map<unknown, unknown>) {
        this.value(k, depth);
        this.value(v, depth);
      }
    } else if (o instanceof Set) {
      this.buf[this.pos++] = T_SET;
      this.varint(o.size);
      for (const v of o as Set<unknown>) this.value(v, depth);
    } else {
      throw UNSUPPORTED;
    }
  }

  private plainObject(o: Record<string, unknown>, depth: number): void {
    let index = this.lastShape;
    if (index < 0 || !sameKeys(o, this.shapes[index]!)) {
      index = -1;
      for (let s = 0; s < this.shapes.length; s++) {
        if (sameKeys(o, this.shapes[s]!)) {
          index = s;
          break;
        }
      }
    }
    if (index >= 0) {
      this.buf[this.pos++] = T_OBJECT;
      this.varint(index);
    } else {
      const keys = Object.keys(o);
      // `__proto__` as a key cannot be recreated by assignment (V8 defines it as own property);
      // `for in` below must see the same keys (no enumerable keys inherited).
      if (this.shapes.length >= MAX_SHAPES || keys.includes('__proto__') || !sameKeys(o, keys))
        throw UNSUPPORTED;
      index = this.shapes.length;
      this.shapes.push(keys);
      this.buf[this.pos++] = T_SHAPE;
      this.varint(keys.length);
      for (const k of keys) this.string(k);
    }
    this.lastShape = index;
    for (const k in o) this.value(o[k], depth);
  }
}

/** Whether the own enumerable keys of `o` are `keys`, in order. */
function sameKeys(o: object, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in o) {
    if (k !== keys[i]) return false;
    i++;
  }
  return i === keys.length;
}

const fromCharCode = String.fromCharCode;

type ObjectReader = (r: TaggedReader) => Record<string, unknown>;

/** Object readers by shape (keys joined by NUL), kept across buffers. */
const objectReaders = new Map<string, ObjectReader>();
const MAX_OBJECT_READERS = 1024;

/**
 * The reader of objects of one shape: an object literal with the keys in order, compiled once
 * per shape, so every object of the shape is created with the same hidden class in one step.
 */
function objectReader(keys: readonly string[]): ObjectReader {
  const id = keys.join('\0');
  let read = objectReaders.get(id);
  if (read) return read;
  if (keys.includes('__proto__')) {
    // Only a corrupt buffer holds one (the writer sends such objects through V8).
    throw new Error('Corrupt network buffer: an object shape with the key __proto__');
  }
  if (objectReaders.size >= MAX_OBJECT_READERS) objectReaders.clear();
  // JSON.stringify quotes each key as a valid string literal, so any key is safe here.
  const fields = keys.map((k) => `${JSON.stringify(k)}: r.value()`).join(', ');
  read = new Function('r', `return { ${fields} };`) as ObjectReader;
  objectReaders.set(id, read);
  return read;
}

/** Reads one buffer of the tagged format; one per buffer, so a handler may decode another. */
class TaggedReader {
  private readonly view: DataView;
  pos = 1;
  private readonly shapes: ObjectReader[] = [];

  constructor(private readonly buf: Buffer) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** A reader of the same buffer from the same position, with the shapes defined so far. */
  fork(): TaggedReader {
    const f = new TaggedReader(this.buf);
    f.pos = this.pos;
    f.shapes.push(...this.shapes);
    return f;
  }

  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let n = b & 0x7f;
    let scale = 128;
    for (;;) {
      b = buf[this.pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 128;
    }
  }

  value(): unknown {
    const t = this.buf[this.pos++]!;
    if (t >= T_SHORT_STRING8) return this.string8(t & 0x7f);
    if (t >= T_FIXINT) return t & 0x3f;
    switch (t) {
      case T_UNDEFINED:
        return undefined;
      case T_NULL:
        return null;
      case T_FALSE:
        return false;
      case T_TRUE:
        return true;
      case T_INT32: {
        const v = this.view.getInt32(this.pos, true);
        this.pos += 4;
        return v;
      }
      case T_FLOAT64: {
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return v;
      }
      case T_STRING8:
        return this.string8(this.varint());
      case T_STRING16: {
        const n = this.varint();
        const s = this.buf.toString('utf16le', this.pos, this.pos + 2 * n);
        this.pos += 2 * n;
        return s;
      }
      case T_ARRAY:
        return this.array(this.varint());
      case T_OBJECT:
        return this.shapes[this.varint()]!(this);
      case T_SHAPE: {
        const n = this.varint();
        const keys = new Array<string>(n);
        for (let i = 0; i < n; i++) keys[i] = this.value() as string;
        const read = objectReader(keys);
        this.shapes.push(read);
        return read(this);
      }
      case T_BIGINT:
        return BigInt(this.string8(this.varint()));
      case T_DATE: {
        const v = this.view.getFloat64(this.pos, true);
        this.pos += 8;
        return new Date(v);
      }
      case T_MAP: {
        const n = this.varint();
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const k = this.value();
          m.set(k, this.value());
        }
        return m;
      }
      case T_SET: {
        const n = this.varint();
        const s = new Set<unknown>();
        for (let i = 0; i < n; i++) s.add(this.value());
        return s;
      }
      default:
        throw new Error(`Corrupt network buffer: unknown value tag ${t} at ${this.pos - 1}`);
    }
  }

  /** Literals for short arrays: packed elements, as the producer's tuples most likely were. */
  private array(n: number): unknown[] {
    switch (n) {
      case 0:
        return [];
      case 1:
        return [this.value()];
      case 2:
        return [this.value(), this.value()];
      case 3:
        return [this.value(), this.value(), this.value()];
      case 4:
        return [this.value(), this.value(), this.value(), this.value()];
      case 5:
        return [this.value(), this.value(), this.value(), this.value(), this.value()];
      default: {
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) a.push(this.value());
        return a;
      }
    }
  }

  /** Short strings are built from their char codes: cheaper than a native call. */
  private string8(n: number): string {
    const b = this.buf;
    const p = this.pos;
    this.pos = p + n;
    if (n > 15) return b.toString('latin1', p, p + n);
    switch (n) {
      case 0:
        return '';
      case 1:
        return fromCharCode(b[p]!);
      case 2:
        return fromCharCode(b[p]!, b[p + 1]!);
      case 3:
        return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!);
      case 4:
        return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!);
      case 5:
        return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!);
      case 6:
        return fromCharCode(b[p]!, b[p + 1]!, b[p + 2]!, b[p + 3]!, b[p + 4]!, b[p + 5]!);
      case 7:
        return fromCharCode(
          b[p]!,
          b[p + 1]!,
          b[p + 2]!,
          b[p + 3]!,
          b[p + 4]!,
          b[p + 5]!,
          b[p + 6]!,
        );
      default: {
        // 8..15: two halves of at most 8 chars each.
        const h = fromCharCode(
          b[p]!,
          b[p + 1]!,
          b[p + 2]!,
          b[p + 3]!,
          b[p + 4]!,
          b[p + 5]!,
          b[p + 6]!,
          b[p + 7]!,
        );
        const q = p + 8;
        switch (n - 8) {
          case 0:
            return h;
          case 1:
            return h + fromCharCode(b[q]!);
          case 2:
            return h + fromCharCode(b[q]!, b[q + 1]!);
          case 3:
            return h + fromCharCode(b[q]!, b[q + 1]!, b[q + 2]!);
          case 4:
            return h + fromCharCode(b[q]!, b[q + 1]!, b[q + 2]!, b[q + 3]!);
          case 5:
            return h + fromCharCode(b[q]!, b[q + 1]!, b[q + 2]!, b[q + 3]!, b[q + 4]!);
          case 6:
            return h + fromCharCode(b[q]!, b[q + 1]!, b[q + 2]!, b[q + 3]!, b[q + 4]!, b[q + 5]!);
          default:
            return (
              h +
              fromCharCode(b[q]!, b[q + 1]!, b[q + 2]!, b[q + 3]!, b[q + 4]!, b[q + 5]!, b[q + 6]!)
            );
        }
      }
    }
  }
}

// ---- encode and decode ------------------------------------------------------------------------

const writer = new TaggedWriter();
let encoding = false;
let v8Streak = 0;

/**
 * Serializes a batch of elements (the first `length` slots of `elements`, `[kind, a, b, ...]`)
 * into one buffer: the tagged format, or V8's serializer for a
 * batch the tagged format does not carry. The buffer is unpooled and owns its ArrayBuffer, so it
 * can be transferred to another thread without a copy.
 */
export function encodeElements(elements: unknown[], length: number = elements.length): Uint8Array {
  if (v8Streak > 0 || encoding) {
    if (v8Streak > 0) v8Streak--;
    return serialize(firstElements(elements, length));
  }
  encoding = true;
  try {
    return writer.encode(elements, length);
  } catch (e) {
    if (e !== UNSUPPORTED) throw e;
    v8Streak = V8_STREAK;
    return serialize(firstElements(elements, length));
  } finally {
    encoding = false;
  }
}

function firstElements(elements: unknown[], length: number): unknown[] {
  return length === elements.length ? elements : elements.slice(0, length);
}

/**
 * A buffer holding only the barrier of an unaligned checkpoint: a priority event that the
 * producer sends ahead of its buffers waiting for credit (and without credit), and that the
 * consumer handles as soon as it arrives. Format byte 0xFE, then the V8-serialized element.
 */
export function encodePriorityBarrier(
  checkpointId: number,
  options: CheckpointOptions,
): Uint8Array {
  const body = serialize([ElementKind.BARRIER, checkpointId, options]);
  const buffer = new Uint8Array(body.length + 1);
  buffer[0] = PRIORITY_FORMAT;
  buffer.set(body, 1);
  return buffer;
}

/** Whether `buffer` is a priority event ({@link encodePriorityBarrier}). */
export function isPriorityEvent(buffer: Uint8Array): boolean {
  return buffer[0] === PRIORITY_FORMAT;
}

/** Decodes a buffer and hands each element to `handler`, in order; returns the record count. */
export function decodeElements(buffer: Uint8Array, handler: ElementHandler): number {
  if (buffer[0] === V8_FORMAT) return decodeV8(buffer, handler);
  if (buffer[0] === PRIORITY_FORMAT) return decodeV8(buffer.subarray(1), handler);
  if (buffer[0] !== TAGGED_FORMAT)
    throw new Error(`Corrupt network buffer: unknown format ${String(buffer[0])}`);
  const buf = Buffer.isBuffer(buffer)
    ? buffer
    : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const r = new TaggedReader(buf);
  const end = buf.length;
  let records = 0;
  while (r.pos < end) {
    const kind = r.varint();
    if (kind >= ElementKind.KEYED_RECORD_BASE) {
      records++;
      const timestamp = r.value() as number | undefined;
      handler.record(r.value(), timestamp, kind - ElementKind.KEYED_RECORD_BASE);
      continue;
    }
    const a = r.value();
    const b = r.value();
    records += dispatch(handler, kind, a, b, r.pos);
  }
  return records;
}

/**
 * A buffer decoded a few elements at a time: a task's turn may end at an element boundary inside
 * a buffer and go on from there at its next turn (Flink's mailbox takes mail between records).
 */
export class BufferCursor {
  private readonly reader: TaggedReader | undefined;
  private readonly elements: unknown[] | undefined;
  private readonly end: number;
  private index = 0;

  constructor(buffer: Uint8Array) {
    if (buffer[0] === TAGGED_FORMAT) {
      const buf = Buffer.isBuffer(buffer)
        ? buffer
        : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      this.reader = new TaggedReader(buf);
      this.end = buf.length;
      return;
    }
    if (buffer[0] === PRIORITY_FORMAT) this.elements = deserialize(buffer.subarray(1)) as unknown[];
    else if (buffer[0] === V8_FORMAT) this.elements = deserialize(buffer) as unknown[];
    else throw new Error(`Corrupt network buffer: unknown format ${String(buffer[0])}`);
    this.end = this.elements.length;
  }

  /**
   * Hands the next elements, at most `max`, to `handler`, in order; returns whether the buffer
   * is done. A handler that asks for {@link rest} gets the elements after its own.
   */
  decode(handler: ElementHandler, max: number): boolean {
    const end = this.end;
    const r = this.reader;
    if (r !== undefined) {
      for (let n = 0; n < max && r.pos < end; n++) {
        const kind = r.varint();
        if (kind >= ElementKind.KEYED_RECORD_BASE) {
          const timestamp = r.value() as number | undefined;
          handler.record(r.value(), timestamp, kind - ElementKind.KEYED_RECORD_BASE);
          continue;
        }
        const a = r.value();
        dispatch(handler, kind, a, r.value(), r.pos);
      }
      return r.pos >= end;
    }
    const e = this.elements!;
    for (let n = 0; n < max && this.index < end; n++) {
      const i = this.index;
      this.index = i + 3;
      const kind = e[i] as number;
      if (kind >= ElementKind.KEYED_RECORD_BASE) {
        handler.record(
          e[i + 2],
          e[i + 1] as number | undefined,
          kind - ElementKind.KEYED_RECORD_BASE,
        );
        continue;
      }
      dispatch(handler, kind, e[i + 1], e[i + 2], i);
    }
    return this.index >= end;
  }

  /**
   * The elements not handed out yet, as a buffer of their own (an unaligned checkpoint persists
   * them as in-flight data of the channel); undefined when none are left. The cursor stays where
   * it is.
   */
  rest(): Uint8Array | undefined {
    let elements: unknown[];
    if (this.reader !== undefined) {
      const f = this.reader.fork();
      elements = [];
      while (f.pos < this.end) elements.push(f.varint(), f.value(), f.value());
    } else elements = this.elements!.slice(this.index);
    return elements.length === 0 ? undefined : encodeElements(elements);
  }
}

function decodeV8(buffer: Uint8Array, handler: ElementHandler): number {
  const a = deserialize(buffer) as unknown[];
  let records = 0;
  for (let i = 0; i < a.length; i += 3) {
    const kind = a[i] as number;
    if (kind >= ElementKind.KEYED_RECORD_BASE) {
      records++;
      handler.record(
        a[i + 2],
        a[i + 1] as number | undefined,
        kind - ElementKind.KEYED_RECORD_BASE,
      );
      continue;
    }
    records += dispatch(handler, kind, a[i + 1], a[i + 2], i);
  }
  return records;
}

/** Hands one element that is not a keyed record to `handler`; returns 1 for a record. */
function dispatch(
  handler: ElementHandler,
  kind: number,
  a: unknown,
  b: unknown,
  at: number,
): number {
  switch (kind) {
    case ElementKind.RECORD:
      handler.record(b, a as number | undefined, -1);
      return 1;
    case ElementKind.WATERMARK:
      handler.watermark(a as number);
      return 0;
    case ElementKind.WATERMARK_STATUS:
      handler.watermarkStatus(a as boolean);
      return 0;
    case ElementKind.END_OF_PARTITION:
      handler.endOfPartition();
      return 0;
    case ElementKind.BARRIER:
      handler.barrier(a as number, b as CheckpointOptions);
      return 0;
    case ElementKind.CANCEL_BARRIER:
      handler.cancelBarrier(a as number);
      return 0;
    default:
      throw new Error(`Corrupt network buffer: unknown element kind ${String(kind)} at ${at}`);
  }
}
