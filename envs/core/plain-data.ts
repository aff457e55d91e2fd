/** Checks and canonical text for plain data (what crosses threads and goes into checkpoints). */

/** A non-null, non-array object (prototype not checked: cloned and deserialised data has none of ours). */
export function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export type TypedArrayName = 'Float32Array' | 'Float64Array' | 'Uint8Array' | 'Int32Array';

/** Whether `x` is a typed array of that kind (by its tag, so arrays from another realm pass too). */
export function isTypedArray(x: unknown, name: TypedArrayName): boolean {
  return ArrayBuffer.isView(x) && Object.prototype.toString.call(x) === `[object ${name}]`;
}

/** JSON with object keys sorted at every level, to compare or hash values whatever their key order. */
export function canonicalJson(x: unknown): string {
  return JSON.stringify(x, (_key, value: unknown) =>
    isRecord(value)
      ? Object.fromEntries(
          Object.keys(value)
            .sort()
            .map((k) => [k, value[k]]),
        )
      : value,
  );
}
