#!/usr/bin/env bash
# Builds the libFuzzer targets (src/*/*_fuzzer.cc) with clang in their own build tree and runs
# each for a bounded time. Exit 0 when every target ran its time without a crash, a sanitizer
# report or a failed invariant; else 1, with the tail of the failing log and the crashing input.
#
#   tests/fuzz/run_fuzzers.sh [--build DIR] [--cc clang] [--cxx clang++] [--seconds 30]
#                             [--jobs 2] [--only NAME]
#
# Corpora persist in DIR/corpus/<target> (seeded from the real-trace collection when present),
# so repeated runs go deeper. Crashing inputs land in DIR/artifacts/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build="$root/build-fuzz"
cc=clang
cxx=clang++
seconds=30
jobs=2
only=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --cc) cc=$2; shift 2 ;;
    --cxx) cxx=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    *) echo "run_fuzzers.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

flags="-O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE= \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >"$build.configure.log" 2>&1 || {
    cat "$build.configure.log" >&2
    exit 1
  }
fi
echo "== building fuzz targets in $build"
ninja -C "$build" -j "$jobs" >"$build/build.log" 2>&1 || { tail -50 "$build/build.log" >&2; exit 1; }

mapfile -t targets < <(grep -v '^$' "$build/fuzzers.txt")
if [[ -n "$only" ]]; then targets=("$only"); fi

# Seed corpora: small real files of the kind each reader takes.
real="${HUOYAN_TESTDATA_REAL:-$root/../shared/testdata/real}"
seed() {  # seed <target> <find args...>
  local dir="$build/corpus/$1"; shift
  mkdir -p "$dir"
  if [[ -d "$real" && -z "$(ls -A "$dir")" ]]; then
    # (find is cut short by head: that SIGPIPE is expected, hence the || true.)
    { find "$real" "$@" -size -64k -type f -print0 2>/dev/null || true; } | head -z -n 40 |
      while IFS= read -r -d '' f; do cp "$f" "$dir/$(basename "$f")"; done || true
  fi
}
for t in "${targets[@]}"; do
  case "$t" in
    chrome_json_reader_fuzzer) seed "$t" -path '*chrome*' -name '*.json' ;;
    folded_reader_fuzzer) seed "$t" -path '*folded*' -name '*.txt' ;;
    *) mkdir -p "$build/corpus/$t" ;;
  esac
done

mkdir -p "$build/artifacts" "$build/logs"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
run() {
  local t=$1
  "$build/$t" -max_total_time="$seconds" -max_len=65536 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/artifacts/$t-" "$build/corpus/$t" \
    >"$build/logs/$t.log" 2>&1
}

failed=()
pids=()
names=()
flush() {
  for i in "${!pids[@]}"; do
    if wait "${pids[$i]}"; then
      echo "ok    ${names[$i]} ($(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$build/logs/${names[$i]}.log" | grep -o '[0-9]*$' || echo '?') runs)"
    else
      echo "FAIL  ${names[$i]} (log: $build/logs/${names[$i]}.log)"
      tail -40 "$build/logs/${names[$i]}.log"
      failed+=("${names[$i]}")
    fi
  done
  pids=()
  names=()
}
echo "== fuzzing ${#targets[@]} targets, ${seconds}s each, $jobs at a time"
for t in "${targets[@]}"; do
  run "$t" &
  pids+=($!)
  names+=("$t")
  if [[ ${#pids[@]} -ge $jobs ]]; then flush; fi
done
flush
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzzing failed: ${failed[*]}" >&2
  exit 1
fi
echo "all fuzz targets passed"
