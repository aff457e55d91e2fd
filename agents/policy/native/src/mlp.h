// The actor-critic towers' arithmetic for the native engine (docs/ppo.md "Native learner").
#pragma once
#include <cstdint>

namespace qrl {

enum Activation { kTanh = 0, kRelu = 1 };

// One tower: dims = [in, hidden..., out], parameters [W0 (in×h1, row-major), b0, W1, b1, ...].
struct Tower {
  const float* theta;
  const int32_t* dims;
  int layers;  // dims length − 1
  int activation;
};

// Outputs [batch × out] into `out`; the hidden layers' outputs (batch × Σ hidden, layer after layer)
// go to `acts`, which tower_backward reads.
void tower_forward(const Tower& t, const float* x, int batch, float* out, float* acts);

// The tower's gradient (same layout as its parameters) into `grad`, given dLoss/dOut [batch × out]
// and the forward pass's input and kept activations; `scratch` holds 2 × batch × max(hidden) floats.
// Returns Σ g² over the tower's block (double, fixed order).
double tower_backward(const Tower& t, const float* x, int batch, const float* acts, const float* d_out, float* grad,
                      float* scratch);

// Adam on theta[0, n) in float32, with the step's constants as adam.ts computes them: exactly its adamStepJs.
void adam_apply(float* theta, const float* grad, float* m, float* v, int64_t n, float step_size,
                float inv_bc2_sqrt, float c1, float c2, float beta1, float beta2, float eps);

// Which kernels the CPU runs: "avx2+fma" or "generic".
const char* kernel_name();

}  // namespace qrl
