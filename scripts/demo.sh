#!/usr/bin/env bash
# Sets up, builds and runs the huoyan demo. Usage: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build}"

scripts/setup.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUOYAN_BUILD_TESTS=OFF \
  -DHUOYAN_BUILD_BENCH=OFF
cmake --build "$BUILD" -j "$(nproc)" --target huoyan_cli

echo "== huoyan top examples/traces/sample_llm.json"
"$BUILD/huoyan" top examples/traces/sample_llm.json
echo
echo "== the same, for one request (apportioned by tokens)"
"$BUILD/huoyan" top examples/traces/sample_llm.json --request-id req-0003 --mode apportioned
