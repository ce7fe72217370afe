#!/bin/sh
# Issue 4: `rivulet eval` of the write-up's two pipelines on a CSV file
# against the library-only loop of bench_m5_pipelines, in the same run.
#
#   bench/bench_cli_eval.sh [series] [days] [threads]     (defaults 1000 300 1)
#
# Data: `rivulet m5 generate --format long` (id,date,y and six more columns,
# sorted by date then id), unpacked to a plain CSV. The CLI evaluates
# examples/m5/knn.river and lm.river each alone with --key id (a family per
# pipeline, as the library bench has), so a CLI "pair row" costs the two runs
# together: rows / (t_knn + t_lm); the CSV is read twice, which counts
# against the CLI. Medians of 3 of each; wall clock (the machine is shared).
set -e
s=${1:-1000} d=${2:-300} t=${3:-1}
root=$(cd "$(dirname "$0")/.." && pwd)
R=$root/build/opt/rivulet
B=$root/build/opt/bench/bench_m5_pipelines
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$R" m5 generate --out "$tmp/m5" --series "$s" --days "$d" --format long >/dev/null
gzip -dc "$tmp/m5/m5_long.csv.gz" > "$tmp/data.csv"
rows=$((s * d))
thr=""
[ "$t" -gt 1 ] && thr="--threads $t"

now() { date +%s.%N; }
median3() { sort -g | sed -n 2p; }

for i in 1 2 3; do
    a=$(now)
    "$R" eval "$root/examples/m5/knn.river" "$tmp/data.csv" --target y --key id --quiet $thr >/dev/null
    b=$(now)
    "$R" eval "$root/examples/m5/lm.river" "$tmp/data.csv" --target y --key id --quiet $thr >/dev/null
    c=$(now)
    echo "$a $b $c" | awk -v n="$rows" '{ printf "%.0f %.3f %.3f\n", n / ($3 - $1), $2 - $1, $3 - $2 }'
done > "$tmp/cli"
for i in 1 2 3; do
    "$B" "$s" "$d" 1 "$t" | awk '/rows\/s/ { for (i = 1; i <= NF; i++) if ($i == "rows/s") print $(i - 1) }'
done > "$tmp/lib"
cli=$(cut -d' ' -f1 "$tmp/cli" | median3)
lib=$(median3 < "$tmp/lib")
echo "data: $s series x $d days = $rows rows, $(wc -c < "$tmp/data.csv") bytes of CSV; threads $t"
echo "cli runs (pair rows/s, knn s, lm s):"; sed 's/^/  /' "$tmp/cli"
echo "library runs (rows/s):" $(cat "$tmp/lib")
echo "median: cli $cli rows/s, library $lib rows/s, ratio $(echo "$cli $lib" | awk '{ printf "%.2f", $1 / $2 }')"
