{
  # The optional native kernels (see native/README.md). Built by `npm run build:native`, never by an
  # install script. BLAS is opened at run time (dlopen), so the build needs only Node's headers
  # and a C compiler; OpenBLAS (Debian: libopenblas0 or libopenblas-dev) is needed to use it.
  "targets": [
    {
      "target_name": "lora_repro_native",
      "sources": ["src/addon.c", "src/blas.c", "src/kernels.c", "src/attention.c"],
      "cflags": ["-O3", "-std=c11", "-fno-math-errno", "-fno-trapping-math", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=c11"],
      "defines": ["NAPI_VERSION=8", "_GNU_SOURCE"],
      "libraries": ["-ldl", "-lm"],
      "conditions": [
        ["OS=='mac'", {
          "xcode_settings": { "OTHER_CFLAGS": ["-O3", "-std=c11"] },
          "libraries!": ["-ldl"]
        }]
      ]
    }
  ]
}
