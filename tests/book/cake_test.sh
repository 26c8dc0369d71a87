#!/bin/sh
# cake_test.sh - gopl.io/ch8/cake: the cake shop's assembly line. Every cake
# is baked, iced, inscribed and finished exactly once and in that order, with
# several icers and buffers; --runs repeats the simulation; --bench prints
# cakes/s for the book's benchmarks, unbuffered and buffered among them.
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need cake

timeout 60 "$book/cake" -v --cakes 12 --num-icers 3 --bake-buf 2 --ice-buf 1 \
    --bake-ms 1 --bake-stddev-ms 0.5 --ice-ms 20 --ice-stddev-ms 2 \
    --inscribe-ms 1 --inscribe-stddev-ms 0.5 >"$tmp/v.out" 2>"$tmp/v.err"
status=$?
check "a verbose run of 12 cakes, 3 icers, buffers 2 and 1: exit 0 (got $status)" [ "$status" -eq 0 ]
check "it reports 12 cakes finished" grep -q '^12 cakes finished in ' "$tmp/v.out"
check "no error output" [ ! -s "$tmp/v.err" ]
# Each cake: one line per step, in the order baking, icing, inscribing, finished.
awk '
    BEGIN { step["baking"] = 1; step["icing"] = 2; step["inscribing"] = 3; step["finished"] = 4 }
    $1 in step {
        s = step[$1]; c = $2
        if (c !~ /^[0-9]+$/ || c >= 12) { print "bad cake: " $0; bad = 1; next }
        if (last[c] != s - 1) { print "cake " c ": " $1 " after step " last[c] + 0; bad = 1 }
        last[c] = s
    }
    END {
        for (c = 0; c < 12; c++) if (last[c] != 4) { print "cake " c " not finished"; bad = 1 }
        exit bad
    }' "$tmp/v.out" >"$tmp/v.why"
check "each of the 12 cakes is baked, iced, inscribed and finished, once and in order" \
    [ $? -eq 0 ]
[ -s "$tmp/v.why" ] && sed 's/^/    | /' "$tmp/v.why"
check "the icers work concurrently (some cake is iced before an earlier one is inscribed)" \
    awk '$1 == "icing" { iced[$2] = NR } $1 == "inscribing" { ins[$2] = NR }
         END { for (c = 1; c < 12; c++) if (iced[c] < ins[c - 1]) exit 0; exit 1 }' "$tmp/v.out"

timeout 60 "$book/cake" --runs 3 --cakes 5 --bake-ms 0.5 --ice-ms 0.5 --inscribe-ms 0.5 \
    >"$tmp/r.out" 2>&1
status=$?
check "--runs 3 --cakes 5: exit 0 (got $status), 15 cakes finished" \
    eval "[ $status -eq 0 ] && grep -q '^15 cakes finished in ' '$tmp/r.out'"

timeout 120 "$book/cake" --bench --runs 2 --cakes 5 --bake-ms 1 --ice-ms 1 --inscribe-ms 1 \
    >"$tmp/b.out" 2>"$tmp/b.err"
status=$?
sed 's/^/    | /' "$tmp/b.out"
check "--bench exits 0 (got $status)" [ "$status" -eq 0 ]
for name in 'unbuffered' 'buffered' 'variable unbuffered' 'variable buffered' \
    'slow icing' 'slow icing, 5 icers'; do
    check "--bench prints cakes/s for: $name" \
        grep -Eq "^$name +[0-9]+\.[0-9] cakes/s  \(10 cakes in " "$tmp/b.out"
done
# (No check compares the figures: on a loaded machine sleeps overrun enough
# to reorder them.)

timeout 5 "$book/cake" --cakes >/dev/null 2>&1
check "a missing value is a usage error (exit 2)" [ $? -eq 2 ]
timeout 5 "$book/cake" --num-icers 0 >/dev/null 2>&1
check "no icer is a usage error (exit 2)" [ $? -eq 2 ]
finish
