#!/usr/bin/env bash
# Sets up, builds and runs every huoyan test (unit, golden, end-to-end, browser). Ends with
# ctest's summary. Usage: scripts/test.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${1:-build}"
JOBS="$(nproc)"

scripts/setup.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHUOYAN_BUILD_TESTS=ON -DHUOYAN_BUILD_BENCH=ON
cmake --build "$BUILD" -j "$JOBS"
ctest --test-dir "$BUILD" -j "$JOBS" --output-on-failure --timeout 600
