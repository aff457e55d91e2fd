// Node-API bindings of mlp.h. Every size is checked against the arrays before native code touches
// them: a wrong call throws a JS error naming the argument, it never reads or writes out of bounds.
#include <node_api.h>

#include <cstdint>
#include <string>

#include "mlp.h"

namespace {

struct Failure {};

void fail(napi_env env, const std::string& message) {
  napi_throw_error(env, "ERR_QUEUE_RL_NATIVE", message.c_str());
  throw Failure{};
}

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) fail(env, std::string("native engine: ") + what);
}

template <typename T>
T* typed(napi_env env, napi_value value, napi_typedarray_type want, const char* name, size_t* length) {
  bool is = false;
  check(env, napi_is_typedarray(env, value, &is), name);
  if (!is) fail(env, std::string("native engine: ") + name + " must be a typed array");
  napi_typedarray_type type;
  void* data = nullptr;
  check(env, napi_get_typedarray_info(env, value, &type, length, &data, nullptr, nullptr), name);
  if (type != want)
    fail(env, std::string("native engine: ") + name + (want == napi_float32_array ? " must be a Float32Array"
                                                                                    : " must be an Int32Array"));
  return static_cast<T*>(data);
}

float* f32(napi_env env, napi_value v, const char* name, size_t need) {
  size_t n = 0;
  float* p = typed<float>(env, v, napi_float32_array, name, &n);
  if (n < need)
    fail(env, std::string("native engine: ") + name + " has " + std::to_string(n) + " values, needs " +
                  std::to_string(need));
  return p;
}

double number(napi_env env, napi_value v, const char* name) {
  double x = 0;
  if (napi_get_value_double(env, v, &x) != napi_ok) fail(env, std::string("native engine: ") + name + " must be a number");
  return x;
}

int count(napi_env env, napi_value v, const char* name, int lo, int hi) {
  const double x = number(env, v, name);
  if (!(x >= lo && x <= hi) || static_cast<double>(static_cast<int>(x)) != x)
    fail(env, std::string("native engine: ") + name + " must be an integer in [" + std::to_string(lo) + ", " +
                  std::to_string(hi) + "]");
  return static_cast<int>(x);
}

struct TowerArgs {
  qrl::Tower tower;
  const float* x;
  int batch;
  int64_t parameters;
  int64_t hidden_per_row;  // Σ hidden
  int max_hidden;
};

// (theta, dims, activation, x, batch) — the first five arguments of forward and backward.
TowerArgs tower_args(napi_env env, napi_value* argv) {
  size_t dim_count = 0;
  const int32_t* dims = typed<int32_t>(env, argv[1], napi_int32_array, "dims", &dim_count);
  if (dim_count < 2 || dim_count > 64) fail(env, "native engine: dims must hold 2 to 64 layer sizes");
  TowerArgs a{};
  a.tower.dims = dims;
  a.tower.layers = static_cast<int>(dim_count) - 1;
  for (size_t l = 0; l < dim_count; l++)
    if (dims[l] < 1 || dims[l] > (1 << 20)) fail(env, "native engine: dims must be in [1, 2^20]");
  for (int l = 0; l < a.tower.layers; l++) {
    a.parameters += static_cast<int64_t>(dims[l]) * dims[l + 1] + dims[l + 1];
    if (l < a.tower.layers - 1) {
      a.hidden_per_row += dims[l + 1];
      if (dims[l + 1] > a.max_hidden) a.max_hidden = dims[l + 1];
    }
  }
  a.tower.activation = count(env, argv[2], "activation", 0, 1);
  a.batch = count(env, argv[4], "batch", 1, 1 << 20);
  a.tower.theta = f32(env, argv[0], "theta", static_cast<size_t>(a.parameters));
  a.x = f32(env, argv[3], "x", static_cast<size_t>(static_cast<int64_t>(a.batch) * dims[0]));
  return a;
}

void args(napi_env env, napi_callback_info info, size_t want, napi_value* argv) {
  size_t argc = want;
  check(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr), "arguments");
  if (argc != want) fail(env, "native engine: expected " + std::to_string(want) + " arguments");
}

// forward(theta, dims, activation, x, batch, out, acts)
napi_value Forward(napi_env env, napi_callback_info info) {
  try {
    napi_value argv[7];
    args(env, info, 7, argv);
    const TowerArgs a = tower_args(env, argv);
    const int64_t rows = a.batch;
    float* out = f32(env, argv[5], "out", static_cast<size_t>(rows * a.tower.dims[a.tower.layers]));
    float* acts = f32(env, argv[6], "acts", static_cast<size_t>(rows * a.hidden_per_row));
    qrl::tower_forward(a.tower, a.x, a.batch, out, acts);
  } catch (const Failure&) {
  }
  return nullptr;
}

// backward(theta, dims, activation, x, batch, acts, dOut, grad, scratch) → Σ g² of the tower's block
napi_value Backward(napi_env env, napi_callback_info info) {
  try {
    napi_value argv[9];
    args(env, info, 9, argv);
    const TowerArgs a = tower_args(env, argv);
    const int64_t rows = a.batch;
    const float* acts = f32(env, argv[5], "acts", static_cast<size_t>(rows * a.hidden_per_row));
    const float* d_out = f32(env, argv[6], "dOut", static_cast<size_t>(rows * a.tower.dims[a.tower.layers]));
    float* grad = f32(env, argv[7], "grad", static_cast<size_t>(a.parameters));
    float* scratch = f32(env, argv[8], "scratch", static_cast<size_t>(2 * rows * a.max_hidden));
    const double sum_sq = qrl::tower_backward(a.tower, a.x, a.batch, acts, d_out, grad, scratch);
    napi_value result;
    check(env, napi_create_double(env, sum_sq, &result), "result");
    return result;
  } catch (const Failure&) {
    return nullptr;
  }
}

// adam(theta, grad, m, v, from, to, stepSize, invBc2Sqrt, c1, c2, beta1, beta2, eps): elements [from, to)
napi_value Adam(napi_env env, napi_callback_info info) {
  try {
    napi_value argv[13];
    args(env, info, 13, argv);
    size_t n = 0;
    float* theta = typed<float>(env, argv[0], napi_float32_array, "theta", &n);
    const float* grad = f32(env, argv[1], "grad", n);
    float* m = f32(env, argv[2], "m", n);
    float* v = f32(env, argv[3], "v", n);
    const int from = count(env, argv[4], "from", 0, static_cast<int>(n));
    const int to = count(env, argv[5], "to", from, static_cast<int>(n));
    double c[7];
    const char* names[7] = {"stepSize", "invBc2Sqrt", "c1", "c2", "beta1", "beta2", "eps"};
    for (int i = 0; i < 7; i++) c[i] = number(env, argv[6 + i], names[i]);
    float f[7];
    for (int i = 0; i < 7; i++) f[i] = static_cast<float>(c[i]);  // JS passes float32 values (Math.fround)
    qrl::adam_apply(theta + from, grad + from, m + from, v + from, to - from, f[0], f[1], f[2], f[3], f[4], f[5],
                    f[6]);
  } catch (const Failure&) {
  }
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor fns[] = {
      {"forward", nullptr, Forward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"backward", nullptr, Backward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, 3, fns);
  napi_value kernels;
  napi_create_string_utf8(env, qrl::kernel_name(), NAPI_AUTO_LENGTH, &kernels);
  napi_set_named_property(env, exports, "kernels", kernels);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
