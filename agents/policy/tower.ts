/** One tower's arithmetic: tfjs (engine.ts) or the native kernels (native-engine.ts). */
export interface Tower {
  readonly outputSize: number;
  /** This tower's block of the parameter vector. */
  readonly offset: number;
  readonly size: number;
  /** Whether forwardTrain reads `observationsT` (the minibatch gather skips the transpose when no tower does). */
  readonly needsTransposedInput: boolean;
  /**
   * Takes this tower's parameters from the whole parameter vector: call it after every change to `theta`.
   * tfjs uploads a copy; the native engine reads `theta` in place (a 224k-parameter copy per minibatch cost
   * 12 % of its update), so `theta` must outlive the engine's use and change only as the optimiser step
   * that precedes the next call.
   */
  setParameters(theta: Float32Array): void;
  /** Outputs [batch, outputSize] of `batch` observations (row-major), written into `out`. Nothing is kept. */
  forward(observations: Float32Array, batch: number, out: Float32Array): void;
  /** Forward for an update, keeping what backward() needs; `observationsT` is the minibatch transposed. */
  forwardTrain(observations: Float32Array, observationsT: Float32Array, batch: number, out: Float32Array): void;
  /**
   * The gradient with respect to this tower's parameters, given dLoss/dOutputs of the last forwardTrain, into its
   * block of `gradOut`; returns Σ g² over the block (for global-norm clipping). Releases what forwardTrain kept.
   */
  backward(dOut: Float32Array, gradOut: Float32Array): number;
  /** Drops what forwardTrain kept, without a backward pass (PPO's target_kl early stop). */
  discardActivations(): void;
  dispose(): void;
}
