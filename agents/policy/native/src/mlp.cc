// Dense layers, their backward pass and Adam, on raw float arrays. Two kernel sets: AVX2 + FMA
// (picked at load time when the CPU has them) and a portable one. Every output element is computed
// the same way wherever it falls in a tile (a batch of 1 gives the rows of a batch of 64 bit for bit),
// and nothing depends on timing: same inputs, same kernel set → same numbers.
#include "mlp.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QRL_X86 1
#endif

namespace qrl {
namespace {

// C[M×N] = bias (broadcast over rows, or 0) + Σ_k A(i,k)·B[k·ldb + j], with A(i,k) = A[i·sai + k·sak].
using GemmBcast = void (*)(int M, int N, int K, const float* A, long sai, long sak, const float* B, long ldb,
                           const float* bias, float* C, long ldc);
// C[i·ldc + j] = Σ_k A[i·lda + k]·Bt[j·ldbt + k]  (C = A·Btᵀ)
using GemmDot = void (*)(int M, int N, int K, const float* A, long lda, const float* Bt, long ldbt, float* C,
                         long ldc);
using InPlace = void (*)(float* x, long n);

void gemm_bcast_generic(int M, int N, int K, const float* A, long sai, long sak, const float* B, long ldb,
                        const float* bias, float* C, long ldc) {
  for (int i = 0; i < M; i++) {
    float* c = C + i * ldc;
    for (int j = 0; j < N; j++) c[j] = bias ? bias[j] : 0.0f;
    for (int k = 0; k < K; k++) {
      const float a = A[i * sai + k * sak];
      const float* b = B + k * ldb;
      for (int j = 0; j < N; j++) c[j] += a * b[j];
    }
  }
}

void gemm_dot_generic(int M, int N, int K, const float* A, long lda, const float* Bt, long ldbt, float* C, long ldc) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      float s = 0.0f;
      for (int k = 0; k < K; k++) s += A[i * lda + k] * Bt[j * ldbt + k];
      C[i * ldc + j] = s;
    }
}

void tanh_generic(float* x, long n) {
  for (long i = 0; i < n; i++) x[i] = std::tanh(x[i]);
}

#ifdef QRL_X86
#define QRL_AVX2 __attribute__((target("avx2,fma")))
// Fully unrolled tile loops keep the accumulators in registers (without it GCC spills them every k: 2× slower).
#define QRL_UNROLL _Pragma("GCC unroll 8")

// Lanes [0, valid) on, the rest off (valid in [0, 8]).
QRL_AVX2 inline __m256i lane_mask(int valid) {
  alignas(32) static const int32_t table[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(table + 8 - valid));
}

// A tile of MR rows × NV vectors of 8 columns, accumulated over all K in registers. `Partial`: the
// last columns are fewer than NV·8 (masked loads and stores; the arithmetic is the same).
template <int MR, int NV, bool Partial>
QRL_AVX2 inline void bcast_tile(int K, const float* A, long sai, long sak, const float* B, long ldb,
                                const float* bias, float* C, long ldc, int ncols) {
  __m256 acc[MR][NV];
  __m256i mask[NV];
  QRL_UNROLL for (int v = 0; v < NV; v++) mask[v] = lane_mask(Partial ? std::min(8, std::max(0, ncols - 8 * v)) : 8);
  QRL_UNROLL for (int v = 0; v < NV; v++) {
    const __m256 b0 = bias == nullptr ? _mm256_setzero_ps()
                      : Partial       ? _mm256_maskload_ps(bias + 8 * v, mask[v])
                                      : _mm256_loadu_ps(bias + 8 * v);
    QRL_UNROLL for (int r = 0; r < MR; r++) acc[r][v] = b0;
  }
  for (int k = 0; k < K; k++) {
    const float* brow = B + k * ldb;
    __m256 bv[NV];
    QRL_UNROLL for (int v = 0; v < NV; v++)
      bv[v] = Partial ? _mm256_maskload_ps(brow + 8 * v, mask[v]) : _mm256_loadu_ps(brow + 8 * v);
    const float* ak = A + k * sak;
    QRL_UNROLL for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_broadcast_ss(ak + r * sai);
      QRL_UNROLL for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_ps(a, bv[v], acc[r][v]);
    }
  }
  QRL_UNROLL for (int r = 0; r < MR; r++)
    QRL_UNROLL for (int v = 0; v < NV; v++) {
      float* c = C + r * ldc + 8 * v;
      if (Partial)
        _mm256_maskstore_ps(c, mask[v], acc[r][v]);
      else
        _mm256_storeu_ps(c, acc[r][v]);
    }
}

template <int MR>
QRL_AVX2 inline void bcast_rows(int nc, int K, const float* A, long sai, long sak, const float* B, long ldb,
                                const float* bias, float* C, long ldc) {
  if (nc == 24)
    bcast_tile<MR, 3, false>(K, A, sai, sak, B, ldb, bias, C, ldc, nc);
  else if (nc > 16)
    bcast_tile<MR, 3, true>(K, A, sai, sak, B, ldb, bias, C, ldc, nc);
  else if (nc > 8)
    bcast_tile<MR, 2, true>(K, A, sai, sak, B, ldb, bias, C, ldc, nc);
  else
    bcast_tile<MR, 1, true>(K, A, sai, sak, B, ldb, bias, C, ldc, nc);
}

// Column panels outside (a 24-column panel of B stays in L1), row tiles of 4 inside.
QRL_AVX2 void gemm_bcast_avx2(int M, int N, int K, const float* A, long sai, long sak, const float* B, long ldb,
                              const float* bias, float* C, long ldc) {
  for (int j = 0; j < N; j += 24) {
    const int nc = std::min(24, N - j);
    const float* bj = bias ? bias + j : nullptr;
    for (int i = 0; i < M; i += 4) {
      const float* ai = A + i * sai;
      float* ci = C + i * ldc + j;
      switch (std::min(4, M - i)) {
        case 4: bcast_rows<4>(nc, K, ai, sai, sak, B + j, ldb, bj, ci, ldc); break;
        case 3: bcast_rows<3>(nc, K, ai, sai, sak, B + j, ldb, bj, ci, ldc); break;
        case 2: bcast_rows<2>(nc, K, ai, sai, sak, B + j, ldb, bj, ci, ldc); break;
        default: bcast_rows<1>(nc, K, ai, sai, sak, B + j, ldb, bj, ci, ldc); break;
      }
    }
  }
}

QRL_AVX2 inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// MR rows of A against NR rows of Bt: 8-wide partial sums over K (a masked last vector), then one
// horizontal sum per element.
template <int MR, int NR>
QRL_AVX2 inline void dot_tile(int K, const float* A, long lda, const float* Bt, long ldbt, float* C, long ldc) {
  __m256 acc[MR][NR];
  QRL_UNROLL for (int r = 0; r < MR; r++)
    QRL_UNROLL for (int c = 0; c < NR; c++) acc[r][c] = _mm256_setzero_ps();
  int k = 0;
  for (; k + 8 <= K; k += 8) {
    __m256 b[NR];
    QRL_UNROLL for (int c = 0; c < NR; c++) b[c] = _mm256_loadu_ps(Bt + c * ldbt + k);
    QRL_UNROLL for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_loadu_ps(A + r * lda + k);
      QRL_UNROLL for (int c = 0; c < NR; c++) acc[r][c] = _mm256_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
  if (k < K) {
    const __m256i mask = lane_mask(K - k);
    __m256 b[NR];
    QRL_UNROLL for (int c = 0; c < NR; c++) b[c] = _mm256_maskload_ps(Bt + c * ldbt + k, mask);
    QRL_UNROLL for (int r = 0; r < MR; r++) {
      const __m256 a = _mm256_maskload_ps(A + r * lda + k, mask);
      QRL_UNROLL for (int c = 0; c < NR; c++) acc[r][c] = _mm256_fmadd_ps(a, b[c], acc[r][c]);
    }
  }
  QRL_UNROLL for (int r = 0; r < MR; r++)
    QRL_UNROLL for (int c = 0; c < NR; c++) C[r * ldc + c] = hsum(acc[r][c]);
}

template <int MR>
QRL_AVX2 inline void dot_rows(int N, int K, const float* A, long lda, const float* Bt, long ldbt, float* C, long ldc) {
  int j = 0;
  for (; j + 3 <= N; j += 3) dot_tile<MR, 3>(K, A, lda, Bt + j * ldbt, ldbt, C + j, ldc);
  if (N - j == 2) dot_tile<MR, 2>(K, A, lda, Bt + j * ldbt, ldbt, C + j, ldc);
  if (N - j == 1) dot_tile<MR, 1>(K, A, lda, Bt + j * ldbt, ldbt, C + j, ldc);
}

QRL_AVX2 void gemm_dot_avx2(int M, int N, int K, const float* A, long lda, const float* Bt, long ldbt, float* C,
                            long ldc) {
  for (int i = 0; i < M; i += 4) {
    const float* ai = A + i * lda;
    float* ci = C + i * ldc;
    switch (std::min(4, M - i)) {
      case 4: dot_rows<4>(N, K, ai, lda, Bt, ldbt, ci, ldc); break;
      case 3: dot_rows<3>(N, K, ai, lda, Bt, ldbt, ci, ldc); break;
      case 2: dot_rows<2>(N, K, ai, lda, Bt, ldbt, ci, ldc); break;
      default: dot_rows<1>(N, K, ai, lda, Bt, ldbt, ci, ldc); break;
    }
  }
}

// Cephes' expf (range reduction by ln 2 in two parts, degree-5 polynomial, 2^n through the exponent
// bits). The clamps keep NaN (min/max return their second operand when either is NaN).
QRL_AVX2 inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), x);
  x = _mm256_max_ps(_mm256_set1_ps(-88.3762626647949f), x);
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = _mm256_set1_ps(1.9875691500e-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
  y = _mm256_add_ps(_mm256_fmadd_ps(y, z, x), _mm256_set1_ps(1.0f));
  __m256i n = _mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(127));
  return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(n, 23)));
}

// Cephes' tanhf: x + x³·P(x²) below |x| = 0.625 (no cancellation near 0), 1 − 2/(e^{2|x|} + 1) above.
QRL_AVX2 inline __m256 tanh8(__m256 x) {
  const __m256 sign_bit = _mm256_set1_ps(-0.0f);
  const __m256 ax = _mm256_andnot_ps(sign_bit, x);
  const __m256 s = _mm256_mul_ps(x, x);
  __m256 p = _mm256_fmadd_ps(_mm256_set1_ps(-5.70498872745e-3f), s, _mm256_set1_ps(2.06390887954e-2f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-5.37397155531e-2f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(1.33314422036e-1f));
  p = _mm256_fmadd_ps(p, s, _mm256_set1_ps(-3.33332819422e-1f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, s), x, x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp8(_mm256_add_ps(ax, ax));
  __m256 large = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
  large = _mm256_or_ps(large, _mm256_and_ps(sign_bit, x));
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(0.625f), _CMP_LT_OQ));
}

QRL_AVX2 void tanh_avx2(float* x, long n) {
  long i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, tanh8(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i mask = lane_mask(static_cast<int>(n - i));
    _mm256_maskstore_ps(x + i, mask, tanh8(_mm256_maskload_ps(x + i, mask)));
  }
}
#endif

struct Kernels {
  GemmBcast bcast;
  GemmDot dot;
  InPlace tanh;
  const char* name;
};

Kernels pick() {
  // QUEUE_RL_NATIVE_KERNELS=generic: the portable kernels on any CPU (what the tests check them with).
  const char* force = std::getenv("QUEUE_RL_NATIVE_KERNELS");
  if (force != nullptr && std::strcmp(force, "generic") == 0)
    return {gemm_bcast_generic, gemm_dot_generic, tanh_generic, "generic"};
#ifdef QRL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    return {gemm_bcast_avx2, gemm_dot_avx2, tanh_avx2, "avx2+fma"};
#endif
  return {gemm_bcast_generic, gemm_dot_generic, tanh_generic, "generic"};
}

const Kernels kernels = pick();

void activate(int activation, float* x, long n) {
  if (activation == kTanh)
    kernels.tanh(x, n);
  else
    for (long i = 0; i < n; i++) x[i] = x[i] < 0.0f ? 0.0f : x[i];  // relu; NaN stays NaN
}

// dz = dh ⊙ act'(a): tanh 1 − a², relu 1 where a > 0 (tfjs's step).
void activation_grad(int activation, float* dh, const float* a, long n) {
  if (activation == kTanh)
    for (long i = 0; i < n; i++) dh[i] = dh[i] * (1.0f - a[i] * a[i]);
  else
    for (long i = 0; i < n; i++) dh[i] = a[i] > 0.0f ? dh[i] : 0.0f;
}

}  // namespace

const char* kernel_name() { return kernels.name; }

void tower_forward(const Tower& t, const float* x, int batch, float* out, float* acts) {
  const float* h = x;
  long w = 0;
  for (int l = 0; l < t.layers; l++) {
    const int in = t.dims[l];
    const int units = t.dims[l + 1];
    const bool last = l == t.layers - 1;
    float* z = last ? out : acts;
    kernels.bcast(batch, units, in, h, in, 1, t.theta + w, units, t.theta + w + static_cast<long>(in) * units, z,
                  units);
    w += static_cast<long>(in) * units + units;
    if (!last) {
      activate(t.activation, z, static_cast<long>(batch) * units);
      acts += static_cast<long>(batch) * units;
    }
    h = z;
  }
}

double tower_backward(const Tower& t, const float* x, int batch, const float* acts, const float* d_out, float* grad,
                      float* scratch) {
  const int L = t.layers;
  long w_off[64];
  long a_off[64];
  long w = 0;
  long a = 0;
  int max_hidden = 0;
  for (int l = 0; l < L; l++) {
    w_off[l] = w;
    w += static_cast<long>(t.dims[l]) * t.dims[l + 1] + t.dims[l + 1];
    a_off[l] = a;
    if (l < L - 1) {
      a += static_cast<long>(batch) * t.dims[l + 1];
      max_hidden = std::max(max_hidden, static_cast<int>(t.dims[l + 1]));
    }
  }
  float* buf[2] = {scratch, scratch + static_cast<long>(batch) * max_hidden};
  const float* dz = d_out;
  for (int l = L - 1; l >= 0; l--) {
    const int in = t.dims[l];
    const int units = t.dims[l + 1];
    const float* below = l == 0 ? x : acts + a_off[l - 1];
    float* dw = grad + w_off[l];
    float* db = dw + static_cast<long>(in) * units;
    kernels.bcast(in, units, batch, below, 1, in, dz, units, nullptr, dw, units);  // dW = belowᵀ·dz
    for (int j = 0; j < units; j++) db[j] = 0.0f;
    for (int b = 0; b < batch; b++)
      for (int j = 0; j < units; j++) db[j] += dz[static_cast<long>(b) * units + j];  // db = Σ_rows dz
    if (l > 0) {
      float* dh = buf[l & 1];
      kernels.dot(batch, in, units, dz, units, t.theta + w_off[l], units, dh, in);  // dh = dz·Wᵀ
      activation_grad(t.activation, dh, below, static_cast<long>(batch) * in);
      dz = dh;
    }
  }
  double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  long i = 0;
  for (; i + 8 <= w; i += 8)
    for (int k = 0; k < 8; k++) s[k] += static_cast<double>(grad[i + k]) * grad[i + k];
  for (; i < w; i++) s[0] += static_cast<double>(grad[i]) * grad[i];
  return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
}

namespace {
// adam.ts's adamStepJs element for element: float32 arithmetic (as torch's Adam) in the same order,
// no fused multiply-add (the addon is built with -ffp-contract=off). Float32 rather than float64: 3.4×
// faster here (8 lanes, float sqrt and division), and what torch computes.
inline void adam_body(float* __restrict theta, const float* __restrict grad, float* __restrict m,
                      float* __restrict v, int64_t n, float step_size, float inv_bc2_sqrt, float c1, float c2,
                      float beta1, float beta2, float eps) {
  for (int64_t i = 0; i < n; i++) {
    const float g = grad[i];
    const float mi = beta1 * m[i] + c1 * g;
    const float vi = beta2 * v[i] + c2 * g * g;
    m[i] = mi;
    v[i] = vi;
    theta[i] = theta[i] - (step_size * mi) / (std::sqrt(vi) * inv_bc2_sqrt + eps);
  }
}

#ifdef QRL_X86
QRL_AVX2 void adam_avx2(float* theta, const float* grad, float* m, float* v, int64_t n, float step_size,
                        float inv_bc2_sqrt, float c1, float c2, float beta1, float beta2, float eps) {
  adam_body(theta, grad, m, v, n, step_size, inv_bc2_sqrt, c1, c2, beta1, beta2, eps);
}
#endif
}  // namespace

void adam_apply(float* theta, const float* grad, float* m, float* v, int64_t n, float step_size,
                float inv_bc2_sqrt, float c1, float c2, float beta1, float beta2, float eps) {
#ifdef QRL_X86
  if (kernels.tanh == tanh_avx2) {
    adam_avx2(theta, grad, m, v, n, step_size, inv_bc2_sqrt, c1, c2, beta1, beta2, eps);
    return;
  }
#endif
  adam_body(theta, grad, m, v, n, step_size, inv_bc2_sqrt, c1, c2, beta1, beta2, eps);
}

}  // namespace qrl
