/*
 * GEMM, sums, LayerNorm, GELU and AdamW on tensors of the wasm heap. Single-threaded (BLAS
 * threads are the only threads). LayerNorm statistics accumulate in double, so they are at least
 * as accurate as the float32 tfjs ops they replace; GELU uses the vectorised fastmath.h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "fastmath.h"

uint8_t *lr_heap = NULL;
size_t lr_heap_len = 0;

#define SCRATCH_SLOTS 4
static float *scratch[SCRATCH_SLOTS];
static size_t scratch_len[SCRATCH_SLOTS];

float *lr_scratch(int slot, size_t floats) {
  if (scratch_len[slot] < floats) {
    free(scratch[slot]);
    scratch[slot] = (float *)malloc(floats * sizeof(float));
    scratch_len[slot] = scratch[slot] != NULL ? floats : 0;
  }
  return scratch[slot];
}

static float *ones = NULL;
static size_t ones_len = 0;

const float *lr_ones(size_t n) {
  if (ones_len < n) {
    free(ones);
    ones = (float *)malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) ones[i] = 1.0f;
    ones_len = n;
  }
  return ones;
}

void lr_gemm_batched(int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda, long sa,
                     const float *b, int ldb, long sb, float beta, float *c, int ldc, long sc, int batch) {
  if (k == 0) {
    /* BLAS leaves C untouched for k = 0 only when beta = 1: make the empty sum explicit. */
    for (int i = 0; i < batch; i++)
      for (int r = 0; r < m; r++) {
        float *row = c + i * sc + (long)r * ldc;
        for (int j = 0; j < n; j++) row[j] = beta == 0.0f ? 0.0f : beta * row[j];
      }
    return;
  }
  for (int i = 0; i < batch; i++)
    lr_sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS, tb ? CBLAS_TRANS : CBLAS_NO_TRANS, m, n, k, alpha,
             a + i * sa, lda, b + i * sb, ldb, beta, c + i * sc, ldc);
}

/*
 * Sums of a row-major [rows, cols] matrix as a GEMV with a ones vector: column sums xᵀ·1 (a bias
 * gradient: 30× faster than tfjs-wasm's Sum over axis 0) or row sums x·1.
 */
void lr_col_sum(const float *x, int rows, int cols, float *out, int row_sums) {
  const int n_out = row_sums ? rows : cols, n_in = row_sums ? cols : rows;
  if (n_out == 0) return;
  if (n_in == 0) {
    memset(out, 0, (size_t)n_out * sizeof(float));
    return;
  }
  lr_sgemv(CBLAS_ROW_MAJOR, row_sums ? CBLAS_NO_TRANS : CBLAS_TRANS, rows, cols, 1.0f, x, cols, lr_ones((size_t)n_in), 1,
           0.0f, out, 1);
}

void lr_fill_rows(float *dst, const float *row, int rows, int cols) {
  for (int i = 0; i < rows; i++) memcpy(dst + (size_t)i * cols, row, (size_t)cols * sizeof(float));
}

/* torch.nn.LayerNorm: biased variance, eps inside the square root. mean/rstd are saved per row. */
LR_VECTOR void lr_layer_norm(const float *x, const float *g, const float *b, int rows, int n, float eps, float *y, float *mean,
                   float *rstd) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float *yr = y + (size_t)r * n;
    double s = 0;
    for (int j = 0; j < n; j++) s += xr[j];
    const float mu = (float)(s / n);
    double s2 = 0;
    for (int j = 0; j < n; j++) {
      const double d = (double)(xr[j] - mu);
      s2 += d * d;
    }
    const float rs = (float)(1.0 / sqrt(s2 / n + (double)eps));
    for (int j = 0; j < n; j++) yr[j] = (xr[j] - mu) * rs * g[j] + b[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
}

/* dx = rstd · (dy·g − mean(dy·g) − x̂ · mean(dy·g·x̂)), x̂ = (x − mean)·rstd. */
LR_VECTOR void lr_layer_norm_dx(const float *dy, const float *x, const float *g, const float *mean, const float *rstd, int rows,
                      int n, float *dx) {
  for (int r = 0; r < rows; r++) {
    const float *dyr = dy + (size_t)r * n;
    const float *xr = x + (size_t)r * n;
    float *dxr = dx + (size_t)r * n;
    const float mu = mean[r], rs = rstd[r];
    double a = 0, c = 0;
    for (int j = 0; j < n; j++) {
      const float gy = dyr[j] * g[j];
      a += gy;
      c += (double)gy * (double)((xr[j] - mu) * rs);
    }
    const float ma = (float)(a / n), mc = (float)(c / n);
    for (int j = 0; j < n; j++) dxr[j] = rs * (dyr[j] * g[j] - ma - (xr[j] - mu) * rs * mc);
  }
}

LR_VECTOR void lr_layer_norm_dparams(const float *dy, const float *x, const float *mean, const float *rstd, int rows, int n,
                           float *dg, float *db) {
  double *ag = (double *)calloc((size_t)n, sizeof(double));
  double *ab = (double *)calloc((size_t)n, sizeof(double));
  for (int r = 0; r < rows; r++) {
    const float *dyr = dy + (size_t)r * n;
    const float *xr = x + (size_t)r * n;
    const float mu = mean[r], rs = rstd[r];
    for (int j = 0; j < n; j++) {
      ag[j] += (double)(dyr[j] * ((xr[j] - mu) * rs));
      ab[j] += dyr[j];
    }
  }
  for (int j = 0; j < n; j++) {
    dg[j] = (float)ag[j];
    db[j] = (float)ab[j];
  }
  free(ag);
  free(ab);
}

#define SQRT1_2 0.70710678118654752440f
#define SQRT_2_OVER_PI 0.79788456080286535588f
#define INV_SQRT_2PI 0.39894228040143267794f

/* Exact GELU x·Φ(x) (RoBERTa) or GPT-2's tanh approximation (fastmath.h: vectorised). */
LR_VECTOR void lr_gelu(int tanh_approx, const float *x, size_t n, float *y) {
  if (tanh_approx) {
    for (size_t i = 0; i < n; i++) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + lr_tanhf(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v)));
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      const float v = x[i];
      y[i] = 0.5f * v * (1.0f + lr_erff(v * SQRT1_2));
    }
  }
}

LR_VECTOR void lr_gelu_grad(int tanh_approx, const float *x, const float *dy, size_t n, float *dx) {
  if (tanh_approx) {
    for (size_t i = 0; i < n; i++) {
      const float v = x[i];
      const float t = lr_tanhf(SQRT_2_OVER_PI * (v + 0.044715f * v * v * v));
      const float d = 0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * v * v);
      dx[i] = dy[i] * d;
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      const float v = x[i];
      const float d = 0.5f * (1.0f + lr_erff(v * SQRT1_2)) + v * INV_SQRT_2PI * lr_expf(-0.5f * v * v);
      dx[i] = dy[i] * d;
    }
  }
}

/*
 * One AdamW step in place, with the float32 operations of src/train/adamw.ts in the same order
 * (so the result is bit-identical): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
 * p ← p·decay − (m / (√v/√bc2 + eps)) · step. Constants come rounded to float32 from JavaScript.
 */
LR_VECTOR void lr_adamw(float *p, const float *g, float *m, float *v, size_t n, const lr_adamw_consts *c) {
  const float b1 = c->beta1, nb1 = c->one_minus_beta1, b2 = c->beta2, nb2 = c->one_minus_beta2;
  const float eps = c->eps, decay = c->decay, sbc2 = c->sqrt_bc2, step = c->step;
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * nb1;
    const float vi = v[i] * b2 + (gi * gi) * nb2;
    m[i] = mi;
    v[i] = vi;
    p[i] = p[i] * decay - (mi / (sqrtf(vi) / sbc2 + eps)) * step;
  }
}

LR_VECTOR void lr_dropout_mask(uint32_t seed, double rate, size_t n, float *out) {
  const uint32_t k1 = lr_dropout_k1(seed), k2 = lr_dropout_k2(seed), th = lr_dropout_threshold(rate);
  const float scale = 1.0f / (float)(1.0 - rate);
  for (size_t i = 0; i < n; i++) out[i] = lr_dropout_keep(k1, k2, (uint32_t)i, th) ? scale : 0.0f;
}

/* Σ x[0..n) with 8 float lanes, so the compiler vectorises it (a plain float sum would stay scalar). */
static inline float lr_sum8(const float *x, int n) {
  float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int j = 0;
  for (; j + 8 <= n; j += 8)
    for (int l = 0; l < 8; l++) acc[l] += x[j + l];
  float s = 0;
  for (; j < n; j++) s += x[j];
  for (int l = 0; l < 8; l++) s += acc[l];
  return s;
}

/* log_softmax over rows of length n: y = (x − max) − log Σ exp(x − max), as tf.logSoftmax computes it. */
LR_VECTOR void lr_log_softmax(const float *x, int rows, int n, float *y) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float *yr = y + (size_t)r * n;
    float mx = -3.4e38f;
    for (int j = 0; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
    for (int j = 0; j < n; j++) yr[j] = lr_expf(xr[j] - mx);
    const float lse = logf(lr_sum8(yr, n));
    for (int j = 0; j < n; j++) yr[j] = (xr[j] - mx) - lse;
  }
}

/* dx = dy − Σ dy · exp(y) per row (the gradient of log_softmax given its output y). */
LR_VECTOR void lr_log_softmax_grad(const float *y, const float *dy, int rows, int n, float *dx) {
  for (int r = 0; r < rows; r++) {
    const float *yr = y + (size_t)r * n;
    const float *dyr = dy + (size_t)r * n;
    float *dxr = dx + (size_t)r * n;
    const float s = lr_sum8(dyr, n);
    for (int j = 0; j < n; j++) dxr[j] = dyr[j] - s * lr_expf(yr[j]);
  }
}

/*
 * Per-token LM loss with label smoothing (the reference NLG loss) from raw logits, one pass per row:
 * loss = (1 − ε)·(lse − x[label]) + ε·(lse − mean x), lse = log Σ exp x. Also saves lse per row.
 */
LR_VECTOR void lr_token_xent(const float *x, const int32_t *labels, int rows, int n, float eps, float *loss, float *lse) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float mx = -3.4e38f;
    for (int j = 0; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, sx[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int j = 0;
    for (; j + 8 <= n; j += 8)
      for (int l = 0; l < 8; l++) {
        acc[l] += lr_expf(xr[j + l] - mx);
        sx[l] += xr[j + l] - mx;
      }
    float s = 0, sum_shift = 0;
    for (; j < n; j++) {
      s += lr_expf(xr[j] - mx);
      sum_shift += xr[j] - mx;
    }
    for (int l = 0; l < 8; l++) {
      s += acc[l];
      sum_shift += sx[l];
    }
    const float logs = logf(s);
    const float nll = logs - (xr[labels[r]] - mx);
    const float smooth = logs - sum_shift / (float)n;
    loss[r] = eps > 0 ? nll * (1.0f - eps) + smooth * eps : nll;
    lse[r] = mx + logs;
  }
}

/* d loss / dx = g · (softmax(x) − (1 − ε)·onehot(label) − ε/n). */
LR_VECTOR void lr_token_xent_grad(const float *x, const int32_t *labels, const float *lse, const float *g, int rows, int n,
                                  float eps, float *dx) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (size_t)r * n;
    float *dr = dx + (size_t)r * n;
    const float gr = g[r], l = lse[r], u = eps / (float)n;
    for (int j = 0; j < n; j++) dr[j] = gr * (lr_expf(xr[j] - l) - u);
    dr[labels[r]] -= gr * (1.0f - eps);
  }
}
