#!/bin/sh
# Issue 4: `rivulet eval` of the write-up's two pipelines on a CSV file
# against the library-only loop of bench_m5_pipelines, in the same run.
#
#   bench/bench_cli_eval.sh [series] [days] [threads] [all]   (defaults 1000 300 1)
#
# Data: `rivulet m5 generate --format long` (sorted by date then id),
# unpacked to a plain CSV and cut to the columns the pipelines read, id,date,y,
# as the library bench's events hold (add `all` to keep the six other
# columns: price, snap, events, which the pipelines carry along unused). The CLI evaluates
# examples/m5/knn.river and lm.river each alone with --key id (a family per
# pipeline, as the library bench has), so a CLI "pair row" costs the two runs
# together: rows / (t_knn + t_lm); the CSV is read twice, which counts
# against the CLI. Medians of 3 of each, by wall clock and by CPU time
# (user + system, all threads), which a shared machine disturbs less.
set -e
s=${1:-1000} d=${2:-300} t=${3:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
R=$root/build/opt/rivulet
B=$root/build/opt/bench/bench_m5_pipelines
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$R" m5 generate --out "$tmp/m5" --series "$s" --days "$d" --format long >/dev/null
if [ "${4:-}" = all ]; then
    gzip -dc "$tmp/m5/m5_long.csv.gz" > "$tmp/data.csv"
else
    gzip -dc "$tmp/m5/m5_long.csv.gz" | cut -d, -f1-3 > "$tmp/data.csv"
fi
rows=$((s * d))
thr=""
[ "$t" -gt 1 ] && thr="--threads $t"

now() { date +%s.%N; }
median3() { sort -g | sed -n 2p; }
cputime() { /usr/bin/time -f "%U %S" -o "$tmp/t" "$@" >/dev/null && awk '{ print $1 + $2 }' "$tmp/t"; }

for i in 1 2 3; do
    a=$(now)
    ck=$(cputime "$R" eval "$root/examples/m5/knn.river" "$tmp/data.csv" --target y --key id --quiet $thr)
    b=$(now)
    cl=$(cputime "$R" eval "$root/examples/m5/lm.river" "$tmp/data.csv" --target y --key id --quiet $thr)
    c=$(now)
    echo "$a $b $c $ck $cl" | awk -v n="$rows" '{ printf "%.0f %.0f %.3f %.3f\n", n / ($3 - $1), n / ($4 + $5), $2 - $1, $3 - $2 }'
done > "$tmp/cli"
for i in 1 2 3; do
    /usr/bin/time -f "%U %S" -o "$tmp/t" "$B" "$s" "$d" 1 "$t" > "$tmp/out"
    r=$(awk '/rows\/s/ { for (i = 1; i <= NF; i++) if ($i == "rows/s") print $(i - 1) }' "$tmp/out")
    echo "$r $(awk -v n="$rows" '{ printf "%.0f", n / ($1 + $2) }' "$tmp/t")"
done > "$tmp/lib"
cli=$(cut -d' ' -f1 "$tmp/cli" | median3)
lib=$(cut -d' ' -f1 "$tmp/lib" | median3)
clic=$(cut -d' ' -f2 "$tmp/cli" | median3)
libc=$(cut -d' ' -f2 "$tmp/lib" | median3)
echo "data: $s series x $d days = $rows rows, $(wc -c < "$tmp/data.csv") bytes of CSV; threads $t"
echo "cli runs (pair rows/s wall, per CPU s, knn s, lm s):"; sed 's/^/  /' "$tmp/cli"
echo "library runs (rows/s wall, per CPU s; the CPU time includes building the stream):"; sed 's/^/  /' "$tmp/lib"
echo "median wall: cli $cli rows/s, library $lib rows/s, ratio $(echo "$cli $lib" | awk '{ printf "%.2f", $1 / $2 }')"
echo "median CPU:  cli $clic rows/CPU s, library $libc rows/CPU s, ratio $(echo "$clic $libc" | awk '{ printf "%.2f", $1 / $2 }')"
