/*
 * Shared declarations of the lora-repro native kernels.
 *
 * Every tensor lives on the WebAssembly heap of tfjs-backend-wasm. JavaScript passes the heap's
 * ArrayBuffer once (again after each memory growth) and then byte offsets into it, so kernels
 * read and write tensors in place: nothing is copied between JavaScript, wasm and C.
 */
#ifndef LORA_REPRO_NATIVE_COMMON_H
#define LORA_REPRO_NATIVE_COMMON_H

#include <stddef.h>
#include <stdint.h>

/*
 * Elementwise loops are compiled twice on x86-64 Linux: with AVX2 (8-wide, ~2–3× faster
 * here) and for any x86-64; the loader picks one per machine (GCC function multi-versioning).
 */
#if defined(__x86_64__) && defined(__linux__) && defined(__GNUC__) && !defined(__clang__)
#define LR_VECTOR __attribute__((target_clones("avx2", "default")))
#else
#define LR_VECTOR
#endif

/* CBLAS enum values (identical in OpenBLAS, the reference CBLAS and Accelerate). */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*sgemv_fn)(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x,
                         int incx, float beta, float *y, int incy);

extern sgemm_fn lr_sgemm;
extern sgemv_fn lr_sgemv;

/* Opens a BLAS library (LORA_REPRO_BLAS, else OpenBLAS, else the system libblas); NULL on success. */
const char *lr_blas_open(void);
const char *lr_blas_path(void);
const char *lr_blas_config(void);
int lr_blas_set_threads(int n);
int lr_blas_get_threads(void);

/* The heap base: set by setHeap, valid until the next wasm memory growth. */
extern uint8_t *lr_heap;
extern size_t lr_heap_len;
#define F32(off) ((float *)(lr_heap + (size_t)(off)))

/* Scratch memory owned by the addon (grown on demand, never shrunk). */
float *lr_scratch(int slot, size_t floats);
/* A vector of `n` ones (for column sums as a GEMV). */
const float *lr_ones(size_t n);

/* Single-threaded C kernels (kernels.c, attention.c). Sizes are element counts. */
void lr_gemm_batched(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, long sa,
                     const float *b, int ldb, long sb, float beta, float *c, int ldc, long sc, int batch);
void lr_col_sum(const float *x, int rows, int cols, float *out, int row_sums);
void lr_fill_rows(float *dst, const float *row, int rows, int cols);
void lr_layer_norm(const float *x, const float *g, const float *b, int rows, int n, float eps, float *y, float *mean,
                   float *rstd);
void lr_layer_norm_dx(const float *dy, const float *x, const float *g, const float *mean, const float *rstd, int rows,
                      int n, float *dx);
void lr_layer_norm_dparams(const float *dy, const float *x, const float *mean, const float *rstd, int rows, int n,
                           float *dg, float *db);
void lr_log_softmax(const float *x, int rows, int n, float *y);
void lr_log_softmax_grad(const float *y, const float *dy, int rows, int n, float *dx);
void lr_token_xent(const float *x, const int32_t *labels, int rows, int n, float eps, float *loss, float *lse);
void lr_token_xent_grad(const float *x, const int32_t *labels, const float *lse, const float *g, int rows, int n,
                        float eps, float *dx);
void lr_gelu(int tanh_approx, const float *x, size_t n, float *y);
void lr_gelu_grad(int tanh_approx, const float *x, const float *dy, size_t n, float *dx);
typedef struct {
  float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, decay, sqrt_bc2, step;
} lr_adamw_consts;
void lr_adamw(float *p, const float *g, float *m, float *v, size_t n, const lr_adamw_consts *c);

/*
 * Dropout masks from a counter-based hash (src/backend/dropout-mask.ts computes the same bits):
 * element i of a mask drawn with `seed` is kept iff u(seed, i) >= rate, u = h(seed, i)/2^24 a 24-bit
 * uniform, i.e. iff h >= ceil(rate · 2^24) (lr_dropout_threshold).
 */
static inline uint32_t lr_mix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}
static inline int lr_dropout_keep(uint32_t k1, uint32_t k2, uint32_t i, uint32_t threshold) {
  return (lr_mix32(lr_mix32(i ^ k1) + k2) >> 8) >= threshold;
}
static inline uint32_t lr_dropout_threshold(double rate) {
  const double t = rate * 16777216.0;
  const uint32_t c = (uint32_t)t;
  return (double)c < t ? c + 1 : c;
}
static inline uint32_t lr_dropout_k1(uint32_t seed) { return lr_mix32(seed); }
static inline uint32_t lr_dropout_k2(uint32_t seed) { return lr_mix32(seed ^ 0x9e3779b9u); }
/* out[i] = keep ? 1/(1 − rate) : 0, in float32 as tf.dropout's multiplier. */
void lr_dropout_mask(uint32_t seed, double rate, size_t n, float *out);

/* Multi-head attention over strided views (attention.c). */
typedef struct {
  size_t off;    /* byte offset of element [0, 0, 0] of this view on the heap */
  long sb, sh;   /* element strides between batch rows and between heads */
  int ld;        /* element stride between sequence positions */
} lr_view;

typedef struct {
  int batch, heads, lq, lk, dh;
  float scale;      /* scores are divided by this (sqrt(dh)) */
  int causal;       /* key j is visible to query i iff j <= past + i */
  int past;
  size_t mask;      /* additive mask [batch, lk] (byte offset), or 0 for none */
  double drop_rate; /* dropout on the probabilities (0 = none), mask from lr_dropout_keep */
  uint32_t drop_seed;
  size_t probs;     /* softmax output [batch, heads, lq, lk] (saved for the backward pass) */
  lr_view q, k, v, out;
} lr_attention;

void lr_attention_forward(const lr_attention *a);
/* dout: view of the output gradient; dq, dk, dv: views of the input gradients (fully written). */
void lr_attention_backward(const lr_attention *a, lr_view dout, lr_view dq, lr_view dk, lr_view dv);

#endif
