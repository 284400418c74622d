/*
 * Finds a BLAS at run time. dlopen rather than linking: the addon then builds without BLAS
 * development files, and a machine without OpenBLAS gets a clear "no BLAS" instead of a load error
 * (the JavaScript side then keeps tfjs's own kernels).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

sgemm_fn lr_sgemm = NULL;
sgemv_fn lr_sgemv = NULL;
static void *handle = NULL;
static char path_used[512] = "";
static void (*set_threads)(int) = NULL;
static int (*get_threads)(void) = NULL;
static char *(*get_config)(void) = NULL;

static int try_open(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) return 0;
  sgemm_fn g = (sgemm_fn)dlsym(h, "cblas_sgemm");
  sgemv_fn v = (sgemv_fn)dlsym(h, "cblas_sgemv");
  if (g == NULL || v == NULL) {
    dlclose(h);
    return 0;
  }
  handle = h;
  lr_sgemm = g;
  lr_sgemv = v;
  set_threads = (void (*)(int))dlsym(h, "openblas_set_num_threads");
  get_threads = (int (*)(void))dlsym(h, "openblas_get_num_threads");
  get_config = (char *(*)(void))dlsym(h, "openblas_get_config");
  snprintf(path_used, sizeof path_used, "%s", path);
  return 1;
}

const char *lr_blas_open(void) {
  if (handle != NULL) return NULL;
  const char *env = getenv("LORA_REPRO_BLAS");
  if (env != NULL && env[0] != '\0') {
    if (try_open(env)) return NULL;
    return "LORA_REPRO_BLAS names a library without cblas_sgemm or that cannot be opened";
  }
#ifdef __APPLE__
  static const char *candidates[] = {"/System/Library/Frameworks/Accelerate.framework/Accelerate", NULL};
#else
  /* OpenBLAS first (Debian: libopenblas0-pthread / libopenblas-dev), then whatever libblas is. */
  static const char *candidates[] = {"libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "libblas.so.3", NULL};
#endif
  for (int i = 0; candidates[i] != NULL; i++)
    if (try_open(candidates[i])) return NULL;
  return "no BLAS library with cblas_sgemm found (install OpenBLAS: apt-get install libopenblas0-pthread)";
}

const char *lr_blas_path(void) { return path_used; }

const char *lr_blas_config(void) {
  if (get_config != NULL) return get_config();
#ifdef __APPLE__
  return "Accelerate";
#else
  return "";
#endif
}

int lr_blas_set_threads(int n) {
  if (set_threads == NULL) return 0;
  set_threads(n);
  return 1;
}

int lr_blas_get_threads(void) { return get_threads != NULL ? get_threads() : -1; }
