/*
 * N-API glue of the lora-repro native kernels (N-API only: one binary serves every Node version).
 *
 * Calling convention: JavaScript registers the wasm heap (setHeap, again after each memory growth)
 * and one parameter block, a Float64Array over its own ArrayBuffer (setParams, once). A kernel call
 * then takes no arguments: JavaScript writes sizes and heap byte offsets into the block and calls,
 * e.g., gemm(). That keeps the per-call overhead well under a microsecond.
 */
#include <node_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"

static double *params = NULL;
static size_t params_len = 0;

#define CHECK(call)                                                    \
  do {                                                                 \
    if ((call) != napi_ok) {                                           \
      napi_throw_error(env, NULL, "lora-repro native: " #call " failed"); \
      return NULL;                                                     \
    }                                                                  \
  } while (0)

static napi_value undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static napi_value str(napi_env env, const char *s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

static int arg_buffer(napi_env env, napi_callback_info info, void **data, size_t *len) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return 0;
  bool is_ab = false;
  napi_is_arraybuffer(env, argv[0], &is_ab);
  if (is_ab) return napi_get_arraybuffer_info(env, argv[0], data, len) == napi_ok;
  bool is_ta = false;
  napi_is_typedarray(env, argv[0], &is_ta);
  if (!is_ta) return 0;
  napi_typedarray_type type;
  size_t length, offset;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, data, &ab, &offset) != napi_ok) return 0;
  *len = length * (type == napi_float64_array ? 8 : 1);
  return 1;
}

/* open(): loads BLAS; returns null or the reason it could not. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  const char *err = lr_blas_open();
  if (err == NULL) {
    napi_value n;
    napi_get_null(env, &n);
    return n;
  }
  return str(env, err);
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  napi_value o;
  CHECK(napi_create_object(env, &o));
  CHECK(napi_set_named_property(env, o, "blasPath", str(env, lr_blas_path())));
  CHECK(napi_set_named_property(env, o, "blasConfig", str(env, lr_blas_config())));
  CHECK(napi_set_named_property(env, o, "blasThreads", num(env, lr_blas_get_threads())));
  return o;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &n));
  napi_value r;
  napi_get_boolean(env, lr_blas_set_threads(n), &r);
  return r;
}

static napi_value js_set_heap(napi_env env, napi_callback_info info) {
  void *data;
  size_t len;
  if (!arg_buffer(env, info, &data, &len)) {
    napi_throw_type_error(env, NULL, "setHeap expects the wasm memory's ArrayBuffer");
    return NULL;
  }
  lr_heap = (uint8_t *)data;
  lr_heap_len = len;
  return undefined(env);
}

static napi_value js_set_params(napi_env env, napi_callback_info info) {
  void *data;
  size_t len;
  if (!arg_buffer(env, info, &data, &len)) {
    napi_throw_type_error(env, NULL, "setParams expects a Float64Array");
    return NULL;
  }
  params = (double *)data;
  params_len = len / sizeof(double);
  return undefined(env);
}

/*
 * benchGemm(n): best GFLOP/s of a few n³ products on private buffers (the load-time BLAS check),
 * per CPU second of this process, so that other load on the machine does not make BLAS look slow.
 */
static napi_value js_bench_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 256;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &n));
  float *a = (float *)malloc(sizeof(float) * n * n), *b = (float *)malloc(sizeof(float) * n * n),
        *c = (float *)malloc(sizeof(float) * n * n);
  for (int i = 0; i < n * n; i++) a[i] = b[i] = (float)((i % 7) - 3) * 0.1f;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    const double s = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    const double g = 2.0 * n * n * n / s / 1e9;
    if (g > best) best = g;
  }
  free(a);
  free(b);
  free(c);
  return num(env, best);
}

#define P(i) (params[i])
#define I(i) ((int)params[i])
#define L(i) ((long)params[i])
#define Z(i) ((size_t)params[i])

/* [ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch] */
static napi_value js_gemm(napi_env env, napi_callback_info info) {
  lr_gemm_batched(I(0), I(1), I(2), I(3), I(4), (float)P(5), F32(Z(6)), I(7), L(8), F32(Z(9)), I(10), L(11),
                  (float)P(12), F32(Z(13)), I(14), L(15), I(16));
  return NULL;
}

/* [x, rows, cols, out, rowSums] */
static napi_value js_col_sum(napi_env env, napi_callback_info info) {
  lr_col_sum(F32(Z(0)), I(1), I(2), F32(Z(3)), I(4));
  return NULL;
}

/* [dst, row, rows, cols] */
static napi_value js_fill_rows(napi_env env, napi_callback_info info) {
  lr_fill_rows(F32(Z(0)), F32(Z(1)), I(2), I(3));
  return NULL;
}

/* [x, g, b, rows, n, eps, y, mean, rstd] */
static napi_value js_layer_norm(napi_env env, napi_callback_info info) {
  lr_layer_norm(F32(Z(0)), F32(Z(1)), F32(Z(2)), I(3), I(4), (float)P(5), F32(Z(6)), F32(Z(7)), F32(Z(8)));
  return NULL;
}

/* [dy, x, g, mean, rstd, rows, n, dx] */
static napi_value js_layer_norm_dx(napi_env env, napi_callback_info info) {
  lr_layer_norm_dx(F32(Z(0)), F32(Z(1)), F32(Z(2)), F32(Z(3)), F32(Z(4)), I(5), I(6), F32(Z(7)));
  return NULL;
}

/* [dy, x, mean, rstd, rows, n, dg, db] */
static napi_value js_layer_norm_dparams(napi_env env, napi_callback_info info) {
  lr_layer_norm_dparams(F32(Z(0)), F32(Z(1)), F32(Z(2)), F32(Z(3)), I(4), I(5), F32(Z(6)), F32(Z(7)));
  return NULL;
}

/* [tanh, x, n, y] */
static napi_value js_gelu(napi_env env, napi_callback_info info) {
  lr_gelu(I(0), F32(Z(1)), Z(2), F32(Z(3)));
  return NULL;
}

/* [tanh, x, dy, n, dx] */
static napi_value js_gelu_grad(napi_env env, napi_callback_info info) {
  lr_gelu_grad(I(0), F32(Z(1)), F32(Z(2)), Z(3), F32(Z(4)));
  return NULL;
}

/* [p, g, m, v, n, beta1, 1−beta1, beta2, 1−beta2, eps, decay, sqrt(bc2), lr/bc1] */
static napi_value js_adamw(napi_env env, napi_callback_info info) {
  const lr_adamw_consts c = {(float)P(5), (float)P(6), (float)P(7),  (float)P(8),
                             (float)P(9), (float)P(10), (float)P(11), (float)P(12)};
  lr_adamw(F32(Z(0)), F32(Z(1)), F32(Z(2)), F32(Z(3)), Z(4), &c);
  return NULL;
}

static lr_view view_at(int i) {
  lr_view v = {Z(i), L(i + 1), L(i + 2), I(i + 3)};
  return v;
}

/* [batch, heads, lq, lk, dh, scale, causal, past, mask, dropRate, probs, q×4, k×4, v×4, out×4]; dropSeed at 43 */
static lr_attention attention_at(void) {
  lr_attention a;
  a.batch = I(0);
  a.heads = I(1);
  a.lq = I(2);
  a.lk = I(3);
  a.dh = I(4);
  a.scale = (float)P(5);
  a.causal = I(6);
  a.past = I(7);
  a.mask = Z(8);
  a.drop_rate = P(9);
  a.drop_seed = (uint32_t)P(43);
  a.probs = Z(10);
  a.q = view_at(11);
  a.k = view_at(15);
  a.v = view_at(19);
  a.out = view_at(23);
  return a;
}

static napi_value js_attention(napi_env env, napi_callback_info info) {
  lr_attention a = attention_at();
  lr_attention_forward(&a);
  return NULL;
}

/* The forward block, then [dout×4, dq×4, dk×4, dv×4] from index 27. */
static napi_value js_attention_backward(napi_env env, napi_callback_info info) {
  lr_attention a = attention_at();
  lr_attention_backward(&a, view_at(27), view_at(31), view_at(35), view_at(39));
  return NULL;
}

/* [seed, rate, n, out] */
static napi_value js_dropout_mask(napi_env env, napi_callback_info info) {
  lr_dropout_mask((uint32_t)P(0), P(1), Z(2), F32(Z(3)));
  return NULL;
}

/* [x, rows, n, y] */
static napi_value js_log_softmax(napi_env env, napi_callback_info info) {
  lr_log_softmax(F32(Z(0)), I(1), I(2), F32(Z(3)));
  return NULL;
}

/* [y, dy, rows, n, dx] */
static napi_value js_log_softmax_grad(napi_env env, napi_callback_info info) {
  lr_log_softmax_grad(F32(Z(0)), F32(Z(1)), I(2), I(3), F32(Z(4)));
  return NULL;
}

#define I32(off) ((const int32_t *)(lr_heap + (size_t)(off)))

/* [x, labels, rows, n, eps, loss, lse] */
static napi_value js_token_xent(napi_env env, napi_callback_info info) {
  lr_token_xent(F32(Z(0)), I32(Z(1)), I(2), I(3), (float)P(4), F32(Z(5)), F32(Z(6)));
  return NULL;
}

/* [x, labels, lse, g, rows, n, eps, dx] */
static napi_value js_token_xent_grad(napi_env env, napi_callback_info info) {
  lr_token_xent_grad(F32(Z(0)), I32(Z(1)), F32(Z(2)), F32(Z(3)), I(4), I(5), (float)P(6), F32(Z(7)));
  return NULL;
}

typedef struct {
  const char *name;
  napi_callback cb;
} fn_entry;

static napi_value init(napi_env env, napi_value exports) {
  static const fn_entry fns[] = {
      {"open", js_open},
      {"info", js_info},
      {"setThreads", js_set_threads},
      {"setHeap", js_set_heap},
      {"setParams", js_set_params},
      {"benchGemm", js_bench_gemm},
      {"gemm", js_gemm},
      {"colSum", js_col_sum},
      {"fillRows", js_fill_rows},
      {"layerNorm", js_layer_norm},
      {"layerNormDx", js_layer_norm_dx},
      {"layerNormDparams", js_layer_norm_dparams},
      {"gelu", js_gelu},
      {"geluGrad", js_gelu_grad},
      {"adamw", js_adamw},
      {"dropoutMask", js_dropout_mask},
      {"logSoftmax", js_log_softmax},
      {"logSoftmaxGrad", js_log_softmax_grad},
      {"tokenXent", js_token_xent},
      {"tokenXentGrad", js_token_xent_grad},
      {"attention", js_attention},
      {"attentionBackward", js_attention_backward},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].cb, NULL, &f) != napi_ok) return NULL;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
