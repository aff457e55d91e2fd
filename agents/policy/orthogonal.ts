/**
 * Orthogonal initialisation (Saxe et al.; SB3 `ortho_init`, CleanRL `layer_init`), from a seeded JS
 * stream so a run's initial weights depend only on its seed — not on the tfjs backend.
 * Gains as SB3: √2 for hidden layers, 0.01 for the policy head, 1 for the value head; biases 0.
 */
import { normal } from '../../envs/core/random/distributions.js';
import type { RandomStream } from '../../envs/core/random/streams.js';

/**
 * A rows × cols matrix (row-major Float32Array) whose rows (if rows ≤ cols) or columns (otherwise)
 * are orthonormal, scaled by `gain`: the QR factor of a Gaussian matrix with the sign of R's
 * diagonal folded in (as torch.nn.init.orthogonal_), by Gram–Schmidt applied twice.
 */
export function orthogonal(rows: number, cols: number, gain: number, rng: RandomStream): Float32Array {
  const n = Math.max(rows, cols); // vector length
  const k = Math.min(rows, cols); // number of orthonormal vectors
  const q = new Float64Array(k * n);
  for (let i = 0; i < k * n; i++) q[i] = normal(rng);
  for (let j = 0; j < k; j++) {
    const vj = q.subarray(j * n, (j + 1) * n);
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        const vp = q.subarray(p * n, (p + 1) * n);
        let dot = 0;
        for (let t = 0; t < n; t++) dot += (vj[t] as number) * (vp[t] as number);
        for (let t = 0; t < n; t++) vj[t] = (vj[t] as number) - dot * (vp[t] as number);
      }
    }
    let norm = 0;
    for (let t = 0; t < n; t++) norm += (vj[t] as number) ** 2;
    norm = Math.sqrt(norm);
    for (let t = 0; t < n; t++) vj[t] = (vj[t] as number) / norm;
  }
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      // vectors run along the longer side
      // Gram–Schmidt keeps R's diagonal (the norms) positive: torch's sign correction is built in.
      const value = rows >= cols ? (q[c * n + r] as number) : (q[r * n + c] as number);
      out[r * cols + c] = gain * value;
    }
  }
  return out;
}
