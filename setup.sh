#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs (skipping what is already installed), then
# configures and builds with CMake. Idempotent: running it again only rebuilds what changed.
#
#   ./setup.sh                     release build in ./build
#   BUILD_DIR=build-dev HARNESS_DEVELOP=ON ./setup.sh   warnings-as-errors + ASan/UBSan
#   HARNESS_BUILD_BENCH=OFF ./setup.sh                  without bench/ (CI's sanitizer tree)
set -euo pipefail

cd "$(dirname "$0")"
BUILD_DIR=${BUILD_DIR:-build}
HARNESS_DEVELOP=${HARNESS_DEVELOP:-OFF}
BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo}
HARNESS_BUILD_BENCH=${HARNESS_BUILD_BENCH:-ON}

PACKAGES=(
  build-essential cmake pkg-config git
  libopencv-dev
  libyaml-cpp-dev libyaml-dev
  nlohmann-json3-dev
  libboost1.81-dev libboost-filesystem1.81-dev
  libproc2-dev
  libonnx-dev libprotobuf-dev protobuf-compiler
  libgtest-dev libgmock-dev libbenchmark-dev libbenchmark-tools
  libcli11-dev libfmt-dev
  libre2-dev
  libxml2-utils
  chromium  # tests/html_browser_test: report.html loaded in a headless browser
  darknet opencv-doc
  python3-opencv  # workers/python: the Python worker (cv2.dnn, numpy)
  clang-format
  clang libclang-rt-dev llvm  # fuzz/: libFuzzer and the sanitizer runtimes, llvm-symbolizer
  lld  # the linker (CMakeLists.txt uses it when present)
  redis-server libhiredis-dev  # queue mode: the broker (run privately per run and test) and its client
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
      SUDO=sudo
    else
      echo "setup: not root and no sudo. Run as root:" >&2
      echo "  apt-get update && apt-get install -y ${missing[*]}" >&2
      exit 2
    fi
  else
    SUDO=
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} Debian packages are installed"
fi

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DHARNESS_DEVELOP="$HARNESS_DEVELOP" \
  -DHARNESS_BUILD_BENCH="$HARNESS_BUILD_BENCH"
cmake --build "$BUILD_DIR" -j"$(nproc)"
echo "setup: built in $BUILD_DIR"
