#!/usr/bin/env bash
# Golden "diff test" of a whole command: runs `huoyan <args>` from a case file and compares its
# stdout (and exit code) with the expected files. Usage: run_golden.sh HUOYAN_BIN CASE_DIR
#   CASE_DIR/args         one argument per line; @SRC@ is replaced by the source tree root,
#                         @OUT@ by a scratch directory
#   CASE_DIR/expected     expected stdout (or, with CASE_DIR/output, the expected file content)
#   CASE_DIR/output       optional: name of a file under @OUT@ to compare instead of stdout
#   CASE_DIR/exit_code    optional expected exit code (default 0)
#   CASE_DIR/stderr       optional: a substring stderr must contain
# Set UPDATE_GOLDEN=1 to rewrite the expected files.
set -uo pipefail
bin="$1"
case_dir="$2"
src="$(cd "$(dirname "$0")/../.." && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

args=()
while IFS= read -r line || [ -n "$line" ]; do
  line="${line//@SRC@/$src}"
  line="${line//@OUT@/$out}"
  args+=("$line")
done < "$case_dir/args"

"$bin" "${args[@]}" > "$out/stdout" 2> "$out/stderr"
rc=$?
want_rc=0
[ -f "$case_dir/exit_code" ] && want_rc="$(cat "$case_dir/exit_code")"
actual="$out/stdout"
[ -f "$case_dir/output" ] && actual="$out/$(cat "$case_dir/output")"

if [ "${UPDATE_GOLDEN:-0}" = "1" ]; then
  cp "$actual" "$case_dir/expected"
  echo "$rc" > "$case_dir/exit_code"
  exit 0
fi
status=0
if [ "$rc" != "$want_rc" ]; then
  echo "exit code $rc, expected $want_rc"; status=1
fi
if [ -f "$case_dir/stderr" ] && ! grep -qF -- "$(cat "$case_dir/stderr")" "$out/stderr"; then
  echo "stderr lacks: $(cat "$case_dir/stderr")"; status=1
fi
if ! diff -u "$case_dir/expected" "$actual"; then status=1; fi
if [ $status != 0 ]; then echo "--- stderr:"; cat "$out/stderr"; fi
exit $status
