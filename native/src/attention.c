/*
 * Multi-head scaled dot-product attention, forward and backward, on strided views of the wasm heap.
 *
 * Why: tfjs-wasm runs batched matmuls at 1.5–2.9 GFLOP/s and needs 4-D transposes to split and
 * merge heads; here every (batch, head) pair is a handful of BLAS calls that read Q, K, V in place
 * through their strides (a head is a column block of [B, L, H], or a slab of [B, heads, L, dh]) and
 * write the context straight into the merged [B, L, H] layout. The arithmetic is the one of the
 * tfjs ops it replaces: scores / scale, + additive mask, causal entries set to −1e10, softmax,
 * dropout multiplier (regenerated from its seed in the backward pass, never stored), · V.
 */
#include <string.h>

#include "common.h"
#include "fastmath.h"

static inline const float *head(lr_view v, int b, int h) { return F32(v.off) + b * v.sb + h * v.sh; }
static inline float *head_w(lr_view v, int b, int h) { return F32(v.off) + b * v.sb + h * v.sh; }

LR_VECTOR void lr_attention_forward(const lr_attention *a) {
  const int lq = a->lq, lk = a->lk;
  const float *mask = a->mask ? F32(a->mask) : NULL;
  const int drop = a->drop_rate > 0;
  const uint32_t k1 = lr_dropout_k1(a->drop_seed), k2 = lr_dropout_k2(a->drop_seed);
  const uint32_t th = lr_dropout_threshold(a->drop_rate);
  const float scale = 1.0f / (float)(1.0 - a->drop_rate);
  float *pd = drop ? lr_scratch(0, (size_t)lq * lk) : NULL;
  for (int b = 0; b < a->batch; b++) {
    for (int h = 0; h < a->heads; h++) {
      const size_t slab = ((size_t)b * a->heads + h) * lq * lk;
      float *p = F32(a->probs) + slab;
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, lq, lk, a->dh, 1.0f, head(a->q, b, h), a->q.ld,
               head(a->k, b, h), a->k.ld, 0.0f, p, lk);
      for (int i = 0; i < lq; i++) {
        float *row = p + (size_t)i * lk;
        const float *mrow = mask ? mask + (size_t)b * lk : NULL;
        const int visible = a->causal ? a->past + i + 1 : lk;
        float mx = -3.4e38f;
        for (int j = 0; j < lk; j++) {
          float s = row[j] / a->scale;
          if (mrow) s += mrow[j];
          if (j >= visible) s = -1e10f;
          row[j] = s;
          mx = s > mx ? s : mx;
        }
        float sum = 0.0f;
        for (int j = 0; j < lk; j++) {
          const float e = lr_expf(row[j] - mx);
          row[j] = e;
          sum += e;
        }
        for (int j = 0; j < lk; j++) row[j] /= sum;
      }
      const float *pv = p;
      if (drop) {
        for (size_t i = 0; i < (size_t)lq * lk; i++)
          pd[i] = p[i] * (lr_dropout_keep(k1, k2, (uint32_t)(slab + i), th) ? scale : 0.0f);
        pv = pd;
      }
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, lq, a->dh, lk, 1.0f, pv, lk, head(a->v, b, h), a->v.ld,
               0.0f, head_w(a->out, b, h), a->out.ld);
    }
  }
}

LR_VECTOR void lr_attention_backward(const lr_attention *a, lr_view dout, lr_view dq, lr_view dk, lr_view dv) {
  const int lq = a->lq, lk = a->lk, dh = a->dh;
  const int drop = a->drop_rate > 0;
  const uint32_t k1 = lr_dropout_k1(a->drop_seed), k2 = lr_dropout_k2(a->drop_seed);
  const uint32_t th = lr_dropout_threshold(a->drop_rate);
  const float scale = 1.0f / (float)(1.0 - a->drop_rate);
  /* The dropout multiplier of this (batch, head) slab, regenerated from the seed. */
  float *m = drop ? lr_scratch(2, (size_t)lq * lk) : NULL;
  float *pd = drop ? lr_scratch(0, (size_t)lq * lk) : NULL;
  float *ds = lr_scratch(1, (size_t)lq * lk);
  for (int b = 0; b < a->batch; b++) {
    for (int h = 0; h < a->heads; h++) {
      const size_t slab = ((size_t)b * a->heads + h) * lq * lk;
      const float *p = F32(a->probs) + slab;
      const float *d = NULL;
      const float *pv = p;
      if (drop) {
        for (size_t i = 0; i < (size_t)lq * lk; i++) {
          m[i] = lr_dropout_keep(k1, k2, (uint32_t)(slab + i), th) ? scale : 0.0f;
          pd[i] = p[i] * m[i];
        }
        d = m;
        pv = pd;
      }
      const float *g = head(dout, b, h);
      /* dV = P_dropᵀ · dO;  dP_drop = dO · Vᵀ. */
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_TRANS, CBLAS_NO_TRANS, lk, dh, lq, 1.0f, pv, lk, g, dout.ld, 0.0f,
               head_w(dv, b, h), dv.ld);
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_TRANS, lq, lk, dh, 1.0f, g, dout.ld, head(a->v, b, h), a->v.ld,
               0.0f, ds, lk);
      /* Through the dropout multiplier, the softmax (dS = P ⊙ (dP − Σ dP ⊙ P)) and the 1/scale. */
      for (int i = 0; i < lq; i++) {
        float *row = ds + (size_t)i * lk;
        const float *prow = p + (size_t)i * lk;
        if (d) {
          const float *drow = d + (size_t)i * lk;
          for (int j = 0; j < lk; j++) row[j] *= drow[j];
        }
        float dot = 0.0f;
        for (int j = 0; j < lk; j++) dot += row[j] * prow[j];
        for (int j = 0; j < lk; j++) row[j] = ((row[j] - dot) * prow[j]) / a->scale;
      }
      /* dQ = dS · K;  dK = dSᵀ · Q. */
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, lq, dh, lk, 1.0f, ds, lk, head(a->k, b, h), a->k.ld,
               0.0f, head_w(dq, b, h), dq.ld);
      lr_sgemm(CBLAS_ROW_MAJOR, CBLAS_TRANS, CBLAS_NO_TRANS, lk, dh, lq, 1.0f, ds, lk, head(a->q, b, h), a->q.ld, 0.0f,
               head_w(dk, b, h), dk.ld);
    }
  }
}
