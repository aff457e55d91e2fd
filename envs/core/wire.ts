/**
 * Exact values over JSON, for the env server and its remote vector-env members: float32 vectors as
 * base64 of their little-endian bytes (bit for bit, −0 and NaN included), numbers that JSON cannot
 * carry (−0, NaN, ±Infinity) as strings, and the plain data of member snapshots (typed arrays and
 * such numbers tagged) so a snapshot crosses the wire and comes back identical.
 */
import { isRecord } from './plain-data.js';

/** A float32 vector as base64 of its little-endian bytes. */
export function float32ToBase64(values: Float32Array): string {
  return bytesOf(values).toString('base64');
}

/** Decodes float32ToBase64 into `out` (its length must match); `field` names the value in errors. */
export function base64ToFloat32(text: unknown, out: Float32Array, field: string): Float32Array {
  const bytes = decodeBase64(text, field, out.length * 4);
  new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(bytes);
  return out;
}

/** A byte vector (masks) as base64. */
export function bytesToBase64(values: Uint8Array): string {
  return bytesOf(values).toString('base64');
}

export function base64ToBytes(text: unknown, out: Uint8Array, field: string): Uint8Array {
  out.set(decodeBase64(text, field, out.length));
  return out;
}

function bytesOf(view: ArrayBufferView): Buffer {
  const bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  const size = (view as unknown as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1;
  if (LITTLE_ENDIAN || size === 1) return bytes;
  const copy = Buffer.from(bytes);
  return size === 8 ? copy.swap64() : copy.swap32();
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decodeBase64(text: unknown, field: string, byteLength: number): Buffer {
  // Exact padded length, then the decoded length: Node's decoder skips foreign characters, so any of
  // them shortens the result (cheaper than a regular expression on every observation).
  if (typeof text !== 'string' || text.length !== 4 * Math.ceil(byteLength / 3))
    throw new TypeError(`${field}: expected base64 text of ${byteLength} bytes`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== byteLength)
    throw new TypeError(`${field}: expected ${byteLength} bytes of base64, got ${bytes.length}`);
  if (!LITTLE_ENDIAN && byteLength % 4 === 0) bytes.swap32();
  return bytes;
}

/** A number as JSON can carry it exactly: itself, or '-0' | 'NaN' | 'Infinity' | '-Infinity'. */
export function exactNumber(x: number): number | string {
  if (Object.is(x, -0)) return '-0';
  return Number.isFinite(x) ? x : String(x);
}

/** Inverse of exactNumber; `field` names the value in errors. */
export function parseExactNumber(x: unknown, field: string): number {
  if (typeof x === 'number') return x;
  if (x === '-0') return -0;
  if (x === 'NaN') return Number.NaN;
  if (x === 'Infinity') return Number.POSITIVE_INFINITY;
  if (x === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new TypeError(`${field}: expected a number or one of "-0", "NaN", "Infinity", "-Infinity"`);
}

const TYPED = ['Float32Array', 'Float64Array', 'Uint8Array', 'Int32Array', 'Uint32Array'] as const;
type TypedName = (typeof TYPED)[number];
const TAG = '$queue-rl';

/**
 * Plain data (objects, arrays, numbers, strings, booleans, null, typed arrays) as JSON-safe data:
 * typed arrays become {"$queue-rl": "<Type>", "base64": …}, numbers JSON cannot carry become
 * {"$queue-rl": "number", "value": "-0"|…}. undefined object fields are dropped, as JSON does.
 */
export function encodePlain(value: unknown): unknown {
  if (typeof value === 'number') return Number.isFinite(value) && !Object.is(value, -0) ? value : numberTag(value);
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (ArrayBuffer.isView(value)) {
    const name = tagOf(value);
    if (!(TYPED as readonly string[]).includes(name))
      throw new TypeError(`encodePlain: ${name} is not supported; allowed: ${TYPED.join(', ')}`);
    return { [TAG]: name, base64: bytesOf(value).toString('base64') };
  }
  if (Array.isArray(value)) return value.map(encodePlain);
  if (isRecord(value)) {
    if (TAG in value) throw new TypeError(`encodePlain: objects with a '${TAG}' key cannot be encoded`);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = encodePlain(v);
    return out;
  }
  throw new TypeError(`encodePlain: a ${typeof value} is not plain data`);
}

/** Inverse of encodePlain. */
export function decodePlain(value: unknown, field = 'state'): unknown {
  if (Array.isArray(value)) return value.map((v, i) => decodePlain(v, `${field}[${i}]`));
  if (!isRecord(value)) return value;
  const tag = value[TAG];
  if (tag === 'number') return parseExactNumber(value.value, field);
  if (typeof tag === 'string') {
    if (!(TYPED as readonly string[]).includes(tag))
      throw new TypeError(`${field}: unknown tag '${tag}'; allowed: number, ${TYPED.join(', ')}`);
    return typedFromBase64(tag as TypedName, value.base64, field);
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodePlain(v, `${field}.${k}`);
  return out;
}

function numberTag(x: number): Record<string, unknown> {
  return { [TAG]: 'number', value: exactNumber(x) };
}

function tagOf(view: ArrayBufferView): string {
  return Object.prototype.toString.call(view).slice(8, -1);
}

function typedFromBase64(name: TypedName, text: unknown, field: string): ArrayBufferView {
  if (typeof text !== 'string' || text.length % 4 !== 0 || !BASE64.test(text))
    throw new TypeError(`${field}: expected base64 text`);
  const bytes = Buffer.from(text, 'base64');
  const size = name === 'Float64Array' ? 8 : name === 'Uint8Array' ? 1 : 4;
  if (bytes.length % size !== 0) throw new TypeError(`${field}: ${bytes.length} bytes is not a whole ${name}`);
  if (!LITTLE_ENDIAN && size > 1) size === 8 ? bytes.swap64() : bytes.swap32();
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  switch (name) {
    case 'Float32Array':
      return new Float32Array(copy);
    case 'Float64Array':
      return new Float64Array(copy);
    case 'Uint8Array':
      return new Uint8Array(copy);
    case 'Int32Array':
      return new Int32Array(copy);
    case 'Uint32Array':
      return new Uint32Array(copy);
  }
}
