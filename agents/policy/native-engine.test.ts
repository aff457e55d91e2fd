import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RandomStream } from '../../envs/core/random/streams.js';
import { createStream } from '../../envs/core/random/streams.js';
import { adamConstants, adamStepJs } from '../../training/ppo/adam.js';
import type { NativeAddon } from './native-engine.js';
import { loadNativeAddon, NativeTowerEngine, nativeAddonPath } from './native-engine.js';
import type { Activation } from './parameters.js';
import { ParameterLayout } from './parameters.js';

/** CI builds the addon in `npm ci` (g++ and Node's headers are on every machine here): a missing build fails. */
function addon(): NativeAddon {
  const r = loadNativeAddon();
  if ('error' in r) throw new Error(r.error);
  return r.addon;
}

/** A float64 MLP forward and backward (the textbook formulas), independent of both engines. */
function reference(
  theta: Float32Array,
  dims: number[],
  activation: Activation,
  x: Float32Array,
  batch: number,
  dOut: Float32Array,
): { out: number[]; grad: number[] } {
  const act = (z: number): number => (activation === 'tanh' ? Math.tanh(z) : Math.max(0, z));
  const layers: { w: number; b: number; in: number; units: number }[] = [];
  let o = 0;
  for (let l = 0; l + 1 < dims.length; l++) {
    const [inSize, units] = [dims[l] as number, dims[l + 1] as number];
    layers.push({ w: o, b: o + inSize * units, in: inSize, units });
    o += inSize * units + units;
  }
  const hs: number[][] = [Array.from(x.subarray(0, batch * (dims[0] as number)))];
  layers.forEach((L, l) => {
    const h = hs[l] as number[];
    const z: number[] = [];
    for (let r = 0; r < batch; r++)
      for (let j = 0; j < L.units; j++) {
        let s = theta[L.b + j] as number;
        for (let k = 0; k < L.in; k++) s += (h[r * L.in + k] as number) * (theta[L.w + k * L.units + j] as number);
        z.push(l === layers.length - 1 ? s : act(s));
      }
    hs.push(z);
  });
  const grad = new Array<number>(o).fill(0);
  let dz = Array.from(dOut.subarray(0, batch * (dims[dims.length - 1] as number)));
  for (let l = layers.length - 1; l >= 0; l--) {
    const L = layers[l] as (typeof layers)[number];
    const below = hs[l] as number[];
    for (let r = 0; r < batch; r++)
      for (let j = 0; j < L.units; j++) {
        const d = dz[r * L.units + j] as number;
        grad[L.b + j] = (grad[L.b + j] as number) + d;
        for (let k = 0; k < L.in; k++)
          grad[L.w + k * L.units + j] = (grad[L.w + k * L.units + j] as number) + (below[r * L.in + k] as number) * d;
      }
    if (l === 0) break;
    const dh: number[] = [];
    for (let r = 0; r < batch; r++)
      for (let k = 0; k < L.in; k++) {
        let s = 0;
        for (let j = 0; j < L.units; j++)
          s += (dz[r * L.units + j] as number) * (theta[L.w + k * L.units + j] as number);
        const a = below[r * L.in + k] as number;
        dh.push(activation === 'tanh' ? s * (1 - a * a) : a > 0 ? s : 0);
      }
    dz = dh;
  }
  return { out: hs[hs.length - 1] as number[], grad };
}

function uniform(n: number, rng: RandomStream, scale = 1): Float32Array {
  return new Float32Array(n).map(() => (rng.next() * 2 - 1) * scale);
}

const SHAPES: { name: string; obs: number; nvec: number[]; hidden: number[]; activation: Activation; batch: number }[] =
  [
    // Gov Workflow's shapes: every full tile and the 7-column tail of a 31-wide head
    { name: 'Gov [256, 256] → 31, batch 64', obs: 163, nvec: [31], hidden: [256, 256], activation: 'tanh', batch: 64 },
    // ragged everything: rows, columns and K not multiples of the tiles, a batch of 1
    { name: 'ragged, batch 1', obs: 7, nvec: [3, 4, 2], hidden: [13, 5], activation: 'tanh', batch: 1 },
    { name: 'ragged relu, batch 11', obs: 19, nvec: [9], hidden: [17, 3, 25], activation: 'relu', batch: 11 },
    { name: 'no hidden layer', obs: 10, nvec: [5], hidden: [], activation: 'tanh', batch: 6 },
  ];

describe('native engine', () => {
  it('is built by npm ci and reports its kernels', () => {
    expect(['avx2+fma', 'generic']).toContain(addon().kernels);
  });

  for (const s of SHAPES) {
    it(`forward and backward match a float64 reference: ${s.name}`, () => {
      const rng = createStream(3, 'native', s.name);
      const layout = new ParameterLayout({ observationSize: s.obs, nvec: s.nvec }, { pi: s.hidden, vf: s.hidden });
      const theta = uniform(layout.size, rng, 0.3);
      const actor = new NativeTowerEngine(layout, 'actor', s.activation);
      actor.setParameters(theta);
      const x = uniform(s.batch * s.obs, rng);
      const out = new Float32Array(s.batch * layout.actionSize);
      actor.forwardTrain(x, new Float32Array(0), s.batch, out);
      const dOut = uniform(out.length, rng);
      const grad = new Float32Array(layout.size).fill(Number.NaN); // the critic's block must stay untouched
      const sumSq = actor.backward(dOut, grad);
      const ref = reference(theta, [s.obs, ...s.hidden, layout.actionSize], s.activation, x, s.batch, dOut);
      const close = (got: ArrayLike<number>, want: number[], tol: number): void => {
        const scale = Math.max(...want.map(Math.abs));
        let worst = 0;
        for (let i = 0; i < want.length; i++)
          worst = Math.max(worst, Math.abs((got[i] as number) - (want[i] as number)));
        expect(scale).toBeGreaterThan(1e-3);
        expect(worst / scale).toBeLessThan(tol);
      };
      close(out, ref.out, 2e-6);
      close(grad.subarray(0, layout.actorSize), ref.grad, 2e-6);
      expect(sumSq).toBeCloseTo(
        ref.grad.reduce((a, g) => a + g * g, 0),
        Math.max(0, 4 - Math.ceil(Math.log10(sumSq))),
      );
      expect(grad.subarray(layout.actorSize).every(Number.isNaN)).toBe(true);
    });
  }

  it('the portable kernels (QUEUE_RL_NATIVE_KERNELS=generic, in a child process) match the reference too', () => {
    const rng = createStream(4, 'native-generic');
    const dims = [19, 17, 3, 25, 9];
    const batch = 11;
    const size = dims.slice(1).reduce((a, u, l) => a + (dims[l] as number) * u + u, 0);
    const theta = uniform(size, rng, 0.3);
    const x = uniform(batch * 19, rng);
    const dOut = uniform(batch * 9, rng);
    // The child runs the addon with the portable kernels and prints its outputs and gradient as JSON.
    const child = `
      const a = require(${JSON.stringify(nativeAddonPath())});
      const input = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
      const f = (v) => Float32Array.from(v);
      const [theta, x, dOut] = [f(input.theta), f(input.x), f(input.dOut)];
      const dims = Int32Array.from(input.dims);
      const out = new Float32Array(input.batch * 9), acts = new Float32Array(input.batch * 45);
      a.forward(theta, dims, 1, x, input.batch, out, acts);
      const grad = new Float32Array(theta.length), scratch = new Float32Array(2 * input.batch * 25);
      a.backward(theta, dims, 1, x, input.batch, acts, dOut, grad, scratch);
      console.log(JSON.stringify({ kernels: a.kernels, out: [...out], grad: [...grad] }));`;
    const r = spawnSync(process.execPath, ['-e', child], {
      input: JSON.stringify({ theta: [...theta], x: [...x], dOut: [...dOut], dims, batch }),
      env: { ...process.env, QUEUE_RL_NATIVE_KERNELS: 'generic' },
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    const got = JSON.parse(r.stdout) as { kernels: string; out: number[]; grad: number[] };
    expect(got.kernels).toBe('generic');
    const ref = reference(theta, dims, 'relu', x, batch, dOut);
    const worst = (a: number[], b: number[]): number =>
      Math.max(...a.map((v, i) => Math.abs(v - (b[i] as number)))) / Math.max(...b.map(Math.abs));
    expect(worst(got.out, ref.out)).toBeLessThan(2e-6);
    expect(worst(got.grad, ref.grad)).toBeLessThan(2e-6);
  });

  it('auto takes the AVX2 kernels, not the portable ones (slower than wasm); native takes either', () => {
    const choose = (kernels: string | undefined, pref: string): { backend: string; tried: string[] } => {
      const code =
        `import { initBackend } from './agents/policy/backend.ts';` +
        `const b = await initBackend('${pref}'); console.log(JSON.stringify({ backend: b.backend, tried: b.tried }));`;
      const env = { ...process.env, TFJS_BACKEND: '' };
      if (kernels) Object.assign(env, { QUEUE_RL_NATIVE_KERNELS: kernels });
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        env,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr).toBe(0);
      return JSON.parse(r.stdout.trim().split('\n').at(-1) as string);
    };
    if (addon().kernels === 'avx2+fma') expect(choose(undefined, 'auto').backend).toBe('native');
    const portable = choose('generic', 'auto');
    expect(portable.backend).toBe('wasm');
    expect(portable.tried.join('; ')).toMatch(/native: only the portable kernels on this CPU/);
    expect(choose('generic', 'native').backend).toBe('native');
  });

  it('gives each row the same bits in a batch of 1 and of 64, and forward() equals forwardTrain()', () => {
    const rng = createStream(5, 'native-rows');
    const layout = new ParameterLayout({ observationSize: 163, nvec: [79] }, { pi: [256, 256], vf: [64] });
    const theta = uniform(layout.size, rng, 0.2);
    const tower = new NativeTowerEngine(layout, 'actor', 'tanh');
    tower.setParameters(theta);
    const B = 64;
    const x = uniform(B * 163, rng);
    const all = new Float32Array(B * 79);
    tower.forward(x, B, all);
    const trained = new Float32Array(B * 79);
    tower.forwardTrain(x, new Float32Array(0), B, trained);
    expect(trained).toEqual(all);
    const one = new Float32Array(79);
    for (const r of [0, 5, 63]) {
      tower.forward(x.subarray(r * 163, (r + 1) * 163), 1, one);
      expect(one).toEqual(all.subarray(r * 79, (r + 1) * 79));
    }
  });

  it('tanh: within 2e-7 of Math.tanh from 1e-30 to 50, saturating at ±Infinity, NaN in → NaN out', () => {
    // A 1 → 1 → 1 tower with unit weights and zero biases: out = tanh(x).
    const layout = new ParameterLayout({ observationSize: 1, nvec: [1] }, { pi: [1], vf: [1] });
    const theta = new Float32Array(layout.size);
    theta.set([1, 0, 1, 0]);
    const tower = new NativeTowerEngine(layout, 'actor', 'tanh');
    tower.setParameters(theta);
    const xs: number[] = [0, 1e-30, 1e-8, 0.1, 0.5, 0.6249, 0.625, 0.63, 1, 2, 3.7, 9, 9.1, 20, 50];
    const inputs = Float32Array.from([...xs, ...xs.map((v) => -v), Infinity, -Infinity, Number.NaN, 1e38, -1e38]);
    const out = new Float32Array(inputs.length);
    tower.forward(inputs, inputs.length, out);
    inputs.forEach((v, i) => {
      const got = out[i] as number;
      if (Number.isNaN(v)) expect(got).toBeNaN();
      else expect(Math.abs(got - Math.tanh(v))).toBeLessThanOrEqual(2e-7 * Math.max(Math.abs(Math.tanh(v)), 1e-30));
    });
    expect(out[inputs.length - 5]).toBe(1);
    expect(out[inputs.length - 4]).toBe(-1);
  });

  it('rejects arrays shorter than the shapes need, naming the argument, and backward without forwardTrain', () => {
    const a = addon();
    const dims = Int32Array.of(4, 3, 2);
    const theta = new Float32Array(4 * 3 + 3 + 3 * 2 + 2);
    const ok = { x: new Float32Array(8), out: new Float32Array(4), acts: new Float32Array(6) };
    expect(() => a.forward(theta, dims, 0, ok.x, 2, ok.out, ok.acts)).not.toThrow();
    expect(() => a.forward(theta, dims, 0, ok.x, 2, new Float32Array(3), ok.acts)).toThrow(/out has 3 values, needs 4/);
    expect(() => a.forward(theta.subarray(1), dims, 0, ok.x, 2, ok.out, ok.acts)).toThrow(/theta has 22 values/);
    expect(() => a.forward(theta, dims, 0, ok.x, 3, ok.out, ok.acts)).toThrow(/x has 8 values, needs 12/);
    expect(() => a.forward(theta, dims, 2, ok.x, 2, ok.out, ok.acts)).toThrow(/activation must be an integer in/);
    expect(() => a.forward(theta, dims, 0, ok.x, 0, ok.out, ok.acts)).toThrow(/batch must be an integer in \[1/);
    expect(() => a.forward(theta, dims, 0, ok.x, 1.5, ok.out, ok.acts)).toThrow(/batch must be an integer/);
    expect(() => a.forward(theta, Int32Array.of(4), 0, ok.x, 2, ok.out, ok.acts)).toThrow(/dims must hold/);
    expect(() => a.forward(theta, Int32Array.of(4, -3, 2), 0, ok.x, 2, ok.out, ok.acts)).toThrow(/dims must be/);
    expect(() => a.forward(theta, Float32Array.of(4, 3, 2) as never, 0, ok.x, 2, ok.out, ok.acts)).toThrow(
      /dims must be an Int32Array/,
    );
    expect(() => a.forward(theta, dims, 0, [1, 2] as never, 2, ok.out, ok.acts)).toThrow(/x must be a typed array/);
    const layout = new ParameterLayout({ observationSize: 4, nvec: [2] }, { pi: [3], vf: [3] });
    const tower = new NativeTowerEngine(layout, 'actor', 'tanh');
    expect(() => tower.backward(new Float32Array(2), new Float32Array(layout.size))).toThrow(/needs a forwardTrain/);
    expect(() => tower.setParameters(new Float32Array(layout.size - 1))).toThrow(/expected 42 values, got 41/);
  });
});

describe('native Adam', () => {
  it('equals the JS loop bit for bit: edge gradients, ranges, shared memory, many steps', () => {
    const n = 1000;
    const rng = createStream(8, 'adam');
    const settings = { beta1: 0.9, beta2: 0.999, eps: 1e-5 };
    const edges = [0, -0, Number.NaN, Infinity, -Infinity, 1e30, -1e30, 1e-40, -1e-45, 3.4e38];
    const mk = (shared: boolean): Float32Array =>
      shared ? new Float32Array(new SharedArrayBuffer(n * 4)) : new Float32Array(n);
    for (const shared of [false, true]) {
      const js = { theta: mk(shared), m: mk(shared), v: mk(shared) };
      const nat = { theta: mk(shared), m: mk(shared), v: mk(shared) };
      const init = uniform(n, rng);
      js.theta.set(init);
      nat.theta.set(init);
      for (let step = 1; step <= 30; step++) {
        const grad = uniform(n, rng, step % 7 === 0 ? 1e6 : 1);
        edges.forEach((e, i) => {
          grad[(step * 37 + i * 91) % n] = e;
        });
        const [from, to] = step % 3 === 0 ? [17, 923] : [0, n];
        const c = adamConstants(settings, step, 3e-4 * (1 + step / 10), step % 4 === 0 ? 0.37 : 1);
        adamStepJs(settings, c, js.theta, grad, js.m, js.v, from, to);
        addon().adam(nat.theta, grad, nat.m, nat.v, from, to, c.stepSize, c.invBc2Sqrt, c.c1, c.c2, 0.9, 0.999, 1e-5);
      }
      const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.slice().buffer);
      expect(bits(nat.theta)).toEqual(bits(js.theta));
      expect(bits(nat.m)).toEqual(bits(js.m));
      expect(bits(nat.v)).toEqual(bits(js.v));
      expect(js.theta.some(Number.isNaN)).toBe(true); // the edges did reach the parameters
    }
  });

  it('rejects a range outside the arrays', () => {
    const a = new Float32Array(4);
    expect(() => addon().adam(a, a, a, a, 2, 5, 1, 1, 0.1, 0.001, 0.9, 0.999, 1e-5)).toThrow(/to must be an integer/);
    expect(() => addon().adam(a, new Float32Array(3), a, a, 0, 4, 1, 1, 0.1, 0.001, 0.9, 0.999, 1e-5)).toThrow(
      /grad has 3 values, needs 4/,
    );
  });
});
