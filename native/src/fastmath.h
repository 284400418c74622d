/*
 * Branch-free float exp and erf that compilers vectorise (glibc's expf/erff are scalar calls).
 * exp: Cephes' polynomial after range reduction, ≤ 2 ulp; exactly 0 below −87.3 (so masked
 * attention scores give probability 0, as tfjs's exp does). erf: Abramowitz & Stegun 7.1.26
 * (|error| ≤ 1.5e-7), the formula tfjs itself uses.
 */
#ifndef LORA_REPRO_FASTMATH_H
#define LORA_REPRO_FASTMATH_H

#include <stdint.h>
#include <string.h>

static inline float lr_expf(float x) {
  const float lo = -87.33f, hi = 88.72f;
  const float xc = x < lo ? lo : (x > hi ? hi : x);
  /* n = round(x / ln 2) by the 1.5·2^23 trick (no SSE4.1 rounding instruction needed). */
  const float shifter = 12582912.0f;
  const float n = (xc * 1.44269504088896341f + shifter) - shifter;
  const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t e = ((int32_t)n + 127) << 23;
  float scale;
  memcpy(&scale, &e, sizeof scale);
  return x < lo ? 0.0f : y * scale;
}

static inline float lr_erff(float x) {
  const float ax = x < 0 ? -x : x;
  const float t = 1.0f / (1.0f + 0.3275911f * ax);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.0f - poly * lr_expf(-ax * ax);
  return x < 0 ? -y : y;
}

/* tanh(u) = 1 − 2/(e^{2u} + 1), odd-symmetric; absolute error ~1e-7. */
static inline float lr_tanhf(float u) {
  const float au = u < 0 ? -u : u;
  const float y = 1.0f - 2.0f / (lr_expf(2.0f * au) + 1.0f);
  return u < 0 ? -y : y;
}

#endif
