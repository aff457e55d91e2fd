/**
 * Gymnasium-style spaces with a JSON description (Gymnasium's spaces, plus `Json`):
 * `{type:"Box",low,high,shape,dtype} | {type:"Discrete",n,start} | {type:"MultiDiscrete",nvec,start}
 * | {type:"Json",schema}`. `Json` describes the structured observations and actions of the
 * reference envs (validated by a zod schema, described by its JSON Schema).
 */
import { z } from 'zod';
import type { RandomStream } from './random/streams.js';

export type SpaceJson =
  | { type: 'Box'; low: number[]; high: number[]; shape: number[]; dtype: 'float32' }
  | { type: 'Discrete'; n: number; start: number }
  | { type: 'MultiDiscrete'; nvec: number[]; start: number[] }
  | { type: 'Json'; schema: unknown };

export interface Space<T> {
  /** True when `x` is a member of the space (type, shape, bounds). */
  contains(x: unknown): x is T;
  toJSON(): SpaceJson;
  toString(): string;
}

export class Box implements Space<Float32Array> {
  readonly shape: readonly number[];
  readonly size: number;
  readonly low: Float32Array;
  readonly high: Float32Array;

  constructor(low: number | readonly number[], high: number | readonly number[], shape: readonly number[]) {
    if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
      throw new RangeError(`Box: shape must be positive integers (got [${shape.join(', ')}])`);
    }
    this.shape = [...shape];
    this.size = shape.reduce((a, b) => a * b, 1);
    this.low = Box.fill(low, this.size, 'low');
    this.high = Box.fill(high, this.size, 'high');
    for (let i = 0; i < this.size; i++) {
      if (!((this.low[i] as number) <= (this.high[i] as number))) {
        throw new RangeError(`Box: low[${i}] = ${this.low[i]} is above high[${i}] = ${this.high[i]}`);
      }
    }
  }

  private static fill(v: number | readonly number[], size: number, name: string): Float32Array {
    if (typeof v === 'number') return new Float32Array(size).fill(v);
    if (v.length !== size) throw new RangeError(`Box: ${name} has ${v.length} values, shape needs ${size}`);
    return Float32Array.from(v);
  }

  contains(x: unknown): x is Float32Array {
    if (!(x instanceof Float32Array) || x.length !== this.size) return false;
    for (let i = 0; i < this.size; i++) {
      const v = x[i] as number;
      if (!(v >= (this.low[i] as number) && v <= (this.high[i] as number))) return false; // also rejects NaN
    }
    return true;
  }

  /** Index and value of the first entry outside the bounds, for error messages. */
  firstViolation(x: Float32Array): { index: number; value: number } | undefined {
    for (let i = 0; i < Math.min(x.length, this.size); i++) {
      const v = x[i] as number;
      if (!(v >= (this.low[i] as number) && v <= (this.high[i] as number))) return { index: i, value: v };
    }
    return undefined;
  }

  toJSON(): SpaceJson {
    return {
      type: 'Box',
      low: Array.from(this.low),
      high: Array.from(this.high),
      shape: [...this.shape],
      dtype: 'float32',
    };
  }

  toString(): string {
    const lo = Math.min(...this.low);
    const hi = Math.max(...this.high);
    return `Box(${lo}, ${hi}, (${this.shape.join(', ')},), float32)`;
  }
}

export class Discrete implements Space<number> {
  constructor(
    readonly n: number,
    readonly start = 0,
  ) {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Discrete: n must be a positive integer (got ${n})`);
  }

  contains(x: unknown): x is number {
    return typeof x === 'number' && Number.isInteger(x) && x >= this.start && x < this.start + this.n;
  }

  /** A uniform sample among the allowed entries of `mask` (all entries when no mask is given). */
  sample(rng: RandomStream, mask?: ArrayLike<number | boolean>): number {
    if (!mask) return this.start + rng.int(this.n);
    let allowed = 0;
    for (let i = 0; i < this.n; i++) if (mask[i]) allowed++;
    if (allowed === 0) return this.start; // Gymnasium: an all-zero mask returns start
    let k = rng.int(allowed);
    for (let i = 0; i < this.n; i++) {
      if (mask[i] && k-- === 0) return this.start + i;
    }
    return this.start;
  }

  toJSON(): SpaceJson {
    return { type: 'Discrete', n: this.n, start: this.start };
  }

  toString(): string {
    return this.start === 0 ? `Discrete(${this.n})` : `Discrete(${this.n}, start=${this.start})`;
  }
}

export class MultiDiscrete implements Space<Int32Array> {
  readonly nvec: readonly number[];
  readonly start: readonly number[];

  constructor(nvec: readonly number[], start?: readonly number[]) {
    if (nvec.length === 0 || nvec.some((n) => !Number.isInteger(n) || n <= 0)) {
      throw new RangeError(`MultiDiscrete: nvec must be positive integers (got [${nvec.join(', ')}])`);
    }
    this.nvec = [...nvec];
    this.start = start ? [...start] : nvec.map(() => 0);
    if (this.start.length !== this.nvec.length) throw new RangeError('MultiDiscrete: start and nvec differ in length');
  }

  /** Length of the flat mask: sum(nvec) (sb3-contrib convention). */
  get maskLength(): number {
    return this.nvec.reduce((a, b) => a + b, 0);
  }

  contains(x: unknown): x is Int32Array {
    if (!(x instanceof Int32Array) || x.length !== this.nvec.length) return false;
    for (let d = 0; d < this.nvec.length; d++) {
      const v = (x[d] as number) - (this.start[d] as number);
      if (v < 0 || v >= (this.nvec[d] as number)) return false;
    }
    return true;
  }

  toJSON(): SpaceJson {
    return { type: 'MultiDiscrete', nvec: [...this.nvec], start: [...this.start] };
  }

  toString(): string {
    return `MultiDiscrete([${this.nvec.join(' ')}])`;
  }
}

/** A structured (JSON) space: membership is a zod parse, the description is the JSON Schema. */
export class JsonSpace<T> implements Space<T> {
  constructor(
    readonly schema: z.ZodType<T>,
    readonly name: string,
  ) {}

  contains(x: unknown): x is T {
    return this.schema.safeParse(x).success;
  }

  toJSON(): SpaceJson {
    return { type: 'Json', schema: z.toJSONSchema(this.schema, { unrepresentable: 'any' }) };
  }

  toString(): string {
    return `Json(${this.name})`;
  }
}
