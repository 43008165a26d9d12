#!/bin/bash
# Usage (from the repository root, after building with benchmarks): bench/wrk_overhead.sh
# Recording cost alone, then while wrk loads huoyan's HTTP server (store of 10 M events).
B=${BUILD:-build}/bench
RB="$B/recording_bench --benchmark_filter=BM_ScopeEnabled/|BM_ClockGettimeTwice|BM_ScopeDisabled --benchmark_repetitions=5 --benchmark_report_aggregates_only=true"
echo "== quiet"; uptime
$RB 2>&1 | grep median
$B/server_bench --serve 18090 > /tmp/sb.log 2>&1 &
sb=$!
for i in $(seq 100); do curl -sf http://127.0.0.1:18090/api/status >/dev/null && break; sleep 0.2; done
id=$(curl -s 'http://127.0.0.1:18090/api/requests?limit=1' | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"][0]["id"])')
echo "request id: $id"; curl -s -o /dev/null -w "profile status %{http_code} bytes %{size_download}\n" "http://127.0.0.1:18090/api/profile?request_id=$id"
wrk -t1 -c8 -d30s --latency "http://127.0.0.1:18090/api/requests?prefix=req-0001" > /tmp/wrk1.txt 2>&1 &
w1=$!
wrk -t1 -c4 -d30s --latency "http://127.0.0.1:18090/api/profile?request_id=$id" > /tmp/wrk2.txt 2>&1 &
w2=$!
sleep 3
echo "== while wrk runs"; uptime
$RB 2>&1 | grep median
wait $w1 $w2
kill -INT $sb; wait $sb
grep -E "Requests/sec|50%|99%" /tmp/wrk1.txt /tmp/wrk2.txt
