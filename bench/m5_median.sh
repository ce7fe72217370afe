#!/bin/sh
# Median rows/s of 5 runs of bench_m5_pipelines (creme mode: learn during
# predict) for a thread count:  bench/m5_median.sh [threads] [series] [days]
# Also prints the CPU seconds of each run (user + system), which the load
# of a shared machine disturbs less than the wall clock.
t=${1:-1} s=${2:-1000} d=${3:-300}
bin=$(dirname "$0")/../build/opt/bench/bench_m5_pipelines
for i in 1 2 3 4 5; do
    /usr/bin/time -f "%U %S" "$bin" "$s" "$d" 1 "$t" 2>&1 |
        awk '/rows\/s/ { for (i = 1; i <= NF; i++) if ($i == "rows/s") r = $(i - 1) }
             NF == 2 && $1 ~ /^[0-9.]+$/ { c = $1 + $2 } END { print r, c }'
done | sort -n | awk -v t="$t" '{ r[NR] = $1; c = c " " $2 } END {
    printf "threads %s: median %d rows/s (runs %d %d %d %d %d; cpu s:%s)\n", t, r[3], r[1], r[2], r[3], r[4], r[5], c }'
