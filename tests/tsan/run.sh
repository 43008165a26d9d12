#!/bin/sh
# Builds the concurrency tests (recording path, clocks, attribution) in a ThreadSanitizer tree
# and runs them; any race report fails the test. Called by the ctest `tsan.recording`:
#   run.sh SOURCE_DIR BUILD_DIR
# The TSan tree lives inside the main build tree and is reused by later runs.
set -eu
src=$1
bin=$2
cmake -S "$src" -B "$bin" -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_CXX_FLAGS="-O1 -g1" \
  -DHUOYAN_SANITIZE=thread \
  -DHUOYAN_BUILD_BENCH=OFF -DHUOYAN_WEB=OFF -DHUOYAN_TSAN_CHECK=OFF >"$bin.configure.log" 2>&1 ||
  { cat "$bin.configure.log"; exit 1; }
ninja -C "$bin" huoyan_concurrency_tests
# TSan needs a fixed memory layout: newer kernels' mmap randomisation breaks its shadow
# mapping ("unexpected memory mapping"), so run with ASLR off for this process only.
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
exec setarch "$(uname -m)" -R "$bin/tests/huoyan_concurrency_tests" --gtest_brief=1
