#!/usr/bin/env bash
# Mesa's software Vulkan driver (lavapipe) for the WebGPU tests: Dawn (the `webgpu` package) then
# finds a real Vulkan adapter on the CPU. Debian 12's own Mesa 22.3 is too old (Dawn gets a null
# adapter: a feature it requires is missing), so Mesa 25 comes from bookworm-backports, fetched
# with `apt-get download` and unpacked with `dpkg -x` under .cache/lavapipe: nothing is installed
# system-wide, and the unpacked folder is reused by later runs.
#
# Usage: `source .ci/lavapipe.sh` (exports VK_ICD_FILENAMES, LD_LIBRARY_PATH, XDG_RUNTIME_DIR and
# LORA_REPRO_VULKAN_ICD), or `bash .ci/lavapipe.sh` to prepare the folder only. Never fails: on
# any error it prints one line and the WebGPU tests skip with their reason.

lvp_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.cache/lavapipe"
lvp_dir="$lvp_root/root"
lvp_icd="$lvp_dir/usr/share/vulkan/icd.d/lvp_icd.json"
# libvulkan1 (the Vulkan loader Dawn opens) comes from bookworm itself; Mesa's other libraries
# (libLLVM-15, libz3, libxcb*) are in the base image, and a missing one is reported below.
lvp_packages="mesa-vulkan-drivers libdrm2 libdrm-amdgpu1 libvulkan1"

lvp_prepare() {
  [ -f "$lvp_icd" ] && [ -f "$lvp_root/ok" ] && return 0
  [ "$(uname -m)" = x86_64 ] || { echo "lavapipe: only set up on x86_64"; return 1; }
  command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1 || { echo "lavapipe: needs apt-get and dpkg"; return 1; }
  # A private apt state: the backports entry never reaches the system's sources.
  local state="$lvp_root/apt" debs="$lvp_root/debs"
  rm -rf "$lvp_dir" "$debs" && mkdir -p "$state/lists/partial" "$state/cache" "$debs" || return 1
  printf 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian bookworm-backports main\n' >"$state/backports.list"
  local opts=(-o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache"
    -o "Dir::Etc::SourceList=$state/backports.list" -o "Dir::Etc::SourceParts=/dev/null")
  if ! timeout 300 apt-get "${opts[@]}" update -qq >"$lvp_root/apt.log" 2>&1; then
    echo "lavapipe: apt-get update (bookworm-backports) failed, see $lvp_root/apt.log"
    return 1
  fi
  if ! (cd "$debs" && timeout 300 apt-get "${opts[@]}" download -t bookworm-backports $lvp_packages >>"$lvp_root/apt.log" 2>&1); then
    echo "lavapipe: apt-get download of $lvp_packages failed, see $lvp_root/apt.log"
    return 1
  fi
  local deb
  for deb in "$debs"/*.deb; do dpkg -x "$deb" "$lvp_dir" || { echo "lavapipe: dpkg -x $deb failed"; return 1; }; done
  rm -rf "$debs" "$state"
  [ -f "$lvp_icd" ] || { echo "lavapipe: no lvp_icd json in the unpacked Mesa"; return 1; }
  local lib="$lvp_dir/usr/lib/x86_64-linux-gnu"
  # The ICD names its library bare (found on the loader's search path): make it absolute.
  sed -i "s|\"library_path\": *\"[^\"]*libvulkan_lvp.so\"|\"library_path\": \"$lib/libvulkan_lvp.so\"|" "$lvp_icd"
  local missing
  missing=$(LD_LIBRARY_PATH="$lib" ldd "$lib/libvulkan_lvp.so" 2>&1 | grep 'not found' | awk '{print $1}' | tr '\n' ' ')
  [ -z "$missing" ] || { echo "lavapipe: libvulkan_lvp.so needs $missing(apt-get install them)"; return 1; }
  touch "$lvp_root/ok"
}

if lvp_prepare; then
  export VK_ICD_FILENAMES="$lvp_icd"
  export LD_LIBRARY_PATH="$lvp_dir/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$lvp_root/run}"
  mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
  # Tells the tests that a software Vulkan device was set up (they still skip if Dawn finds none).
  export LORA_REPRO_VULKAN_ICD="$lvp_icd"
  echo "lavapipe: $(sed -n 's/.*"api_version": *"\([^"]*\)".*/Vulkan \1/p' "$lvp_icd") from $lvp_dir"
else
  echo "lavapipe: not available; the WebGPU tests will skip"
fi
true
