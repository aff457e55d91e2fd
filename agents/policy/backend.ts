/**
 * Backend selection (docs/decisions.md, docs/gpu.md): `auto` tries tfjs-node-gpu, then tfjs-node (the
 * native 'tensorflow' backend; optional peer dependencies, never downloaded by npm ci), then queue-rl's
 * own native kernels (native-engine.ts, built by npm ci), then tfjs's wasm (SIMD, one thread), then the
 * pure-JS cpu backend. `tensorflow`, `native`, `wasm` and `cpu` ask for one backend and fail with the
 * reasons when it cannot load. With `native`, tfjs runs on 'cpu' for what is not arithmetic
 * (checkpoint I/O). The choice (and whether a GPU is in use) is printed by the commands and recorded
 * in every run's metadata.
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { loadNativeAddon } from './native-engine.js';

export const BACKEND_PREFERENCES = ['auto', 'tensorflow', 'native', 'wasm', 'cpu'] as const;
export type BackendPreference = (typeof BACKEND_PREFERENCES)[number];
export const BackendPreferenceSchema = z.enum(BACKEND_PREFERENCES);

export interface BackendInfo {
  /** The active backend: 'tensorflow' | 'native' | 'wasm' | 'cpu'. */
  backend: string;
  /** The native engine's kernel set ('avx2+fma' or 'generic'), with backend 'native'. */
  kernels?: string;
  /** The native package that provided 'tensorflow', if any. */
  nativePackage: string | null;
  /** Whether the native backend runs on a GPU (TF silently falls back to CPU when CUDA 11 libraries are missing). */
  gpu: boolean;
  /** What was tried before, and why it failed. */
  tried: string[];
  tfjsVersion: string;
}

let current: BackendInfo | null = null;

/** Selects (once per process) and initialises the backend. */
export async function initBackend(requested: BackendPreference = 'auto'): Promise<BackendInfo> {
  // TFJS_BACKEND applies where nothing more specific was asked for (a config's or flag's 'auto').
  const env = process.env.TFJS_BACKEND;
  const pref = (requested === 'auto' && env ? env : requested) as BackendPreference;
  if (!(BACKEND_PREFERENCES as readonly string[]).includes(pref)) {
    throw new Error(
      `${requested === 'auto' && env ? 'TFJS_BACKEND' : 'backend'} '${pref}' is not one of ` +
        `${BACKEND_PREFERENCES.join(', ')}`,
    );
  }
  if (current && (pref === 'auto' || pref === current.backend)) return current;
  const tried: string[] = [];
  const done = (info: Omit<BackendInfo, 'tried' | 'tfjsVersion'>): BackendInfo => {
    current = { ...info, tried, tfjsVersion: tf.version.tfjs };
    return current;
  };
  if (pref === 'auto' || pref === 'tensorflow') {
    for (const spec of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
      try {
        await import(/* @vite-ignore */ spec); // a variable specifier: no compile-time dependency
        if (tf.getBackend() === 'tensorflow' || (await tf.setBackend('tensorflow'))) {
          const gpu = (tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice === true;
          return done({ backend: 'tensorflow', nativePackage: spec, gpu });
        }
        tried.push(`${spec}: loaded but its backend is not active (a duplicate @tensorflow/tfjs-core?)`);
      } catch (err) {
        tried.push(`${spec}: ${String((err as Error).message).split('\n')[0]}`);
      }
    }
    if (pref === 'tensorflow') throw new Error(`backend 'tensorflow' is not available: ${tried.join('; ')}`);
  }
  if (pref === 'auto' || pref === 'native') {
    const native = loadNativeAddon();
    // The portable kernels (a CPU without AVX2 + FMA) are slower than wasm: auto skips them.
    const portableOnly = 'addon' in native && native.addon.kernels !== 'avx2+fma' && pref === 'auto';
    if (portableOnly) tried.push('native: only the portable kernels on this CPU (no AVX2 + FMA), slower than wasm');
    if ('addon' in native && !portableOnly) {
      await tf.setBackend('cpu');
      await tf.ready();
      // tfjs's cpu backend greets its first tensor in Node with advice to install tfjs-node; here it only
      // builds checkpoint files, so the advice would mislead.
      (tf.backend() as unknown as { firstUse?: boolean }).firstUse = false;
      return done({ backend: 'native', nativePackage: null, gpu: false, kernels: native.addon.kernels });
    }
    if ('error' in native) {
      tried.push(`native: ${native.error}`);
      if (pref === 'native') throw new Error(`backend 'native' is not available: ${native.error}`);
    }
  }
  if (pref === 'auto' || pref === 'wasm') {
    try {
      // The emscripten module installs process-wide 'uncaughtException'/'unhandledRejection'
      // handlers that rethrow (and so print its whole minified source with any later crash);
      // take them off again so Node's own handling and our error messages stay as they are.
      const before = { ex: process.listeners('uncaughtException'), rej: process.listeners('unhandledRejection') };
      await import('@tensorflow/tfjs-backend-wasm');
      const ok = await tf.setBackend('wasm');
      if (ok) await tf.ready();
      for (const l of process.listeners('uncaughtException'))
        if (!before.ex.includes(l)) process.off('uncaughtException', l);
      for (const l of process.listeners('unhandledRejection'))
        if (!before.rej.includes(l)) process.off('unhandledRejection', l);
      if (ok) return done({ backend: 'wasm', nativePackage: null, gpu: false });
      tried.push('wasm: setBackend returned false');
    } catch (err) {
      tried.push(`wasm: ${String((err as Error).message).split('\n')[0]}`);
    }
    if (pref === 'wasm') throw new Error(`backend 'wasm' is not available: ${tried.join('; ')}`);
  }
  await tf.setBackend('cpu');
  await tf.ready();
  return done({ backend: 'cpu', nativePackage: null, gpu: false });
}

/** The backend initBackend chose in this thread, or null before it ran. */
export function activeBackend(): string | null {
  return current?.backend ?? null;
}

export function describeBackend(info: BackendInfo): string {
  if (info.backend === 'native')
    return `queue-rl native kernels (${info.kernels ?? '?'}), tfjs ${info.tfjsVersion} for I/O`;
  const device = info.backend === 'tensorflow' ? (info.gpu ? ' on GPU' : ' on CPU') : '';
  return (
    `tfjs ${info.tfjsVersion}, backend ` +
    `${info.backend}${info.nativePackage ? ` (${info.nativePackage})` : ''}${device}`
  );
}
