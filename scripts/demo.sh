#!/usr/bin/env bash
# The huoyan demo: installs what is missing (scripts/setup.sh), builds the reference LLM server
# and its load generator (Release), starts `llm_server --profile` with a background load so the
# web UI shows live requests, prints the URL, and stops both on Ctrl-C.
#
# Usage: scripts/demo.sh        Environment: BUILD (build dir, default build-demo),
#        PORT (default 8080), HOST (default 127.0.0.1; 0.0.0.0 exposes it, without a token),
#        RATE (requests/s of the background load, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD="${BUILD:-build-demo}"
PORT="${PORT:-8080}"
HOST="${HOST:-127.0.0.1}"
RATE="${RATE:-2}"

scripts/setup.sh
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUOYAN_BUILD_TESTS=OFF \
  -DHUOYAN_BUILD_BENCH=OFF
cmake --build "$BUILD" -j "$(nproc)" --target llm_server llm_loadgen huoyan_cli

server_pid=""
loadgen_pid=""
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "demo: stopping"
  [ -n "$loadgen_pid" ] && kill -TERM "$loadgen_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

"$BUILD/llm_server" --profile --host "$HOST" --port "$PORT" \
  --test-prompt="Tell me where the time of this request went." &
server_pid=$!

url="http://127.0.0.1:$PORT"
for _ in $(seq 1 300); do
  if curl -fs "$url/health" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "demo: llm_server exited (is port $PORT in use? try PORT=8081 scripts/demo.sh)" >&2
    exit 1
  fi
  sleep 0.2
done

# Background load: Poisson arrivals until stopped; summary printed when it ends.
"$BUILD/llm_loadgen" --url "$url" --rate "$RATE" --duration 0 --concurrency 8 \
  --prompt-max 192 --output-max 96 &
loadgen_pid=$!

cat <<MSG

  huoyan web UI:  http://$HOST:$PORT/        (live requests from llm_loadgen, $RATE/s)
  REST API:       curl -o trace.json $url/api/profile
  completions:    curl -s $url/v1/completions -d '{"prompt":"Hello","max_tokens":16}'
  top kernels:    curl -s $url/api/profile > trace.json && $BUILD/huoyan top trace.json

  Ctrl-C stops the server and the load.

MSG
wait "$server_pid"
