#!/bin/sh
# pipeline_test.sh - gopl.io/ch8/pipeline1..3: counter -> squarer -> printer
# prints exactly the squares 0, 1, 4, ..., 9801; pipeline2 and pipeline3 end
# by themselves when the counter closes its channel; pipeline1 runs forever
# unless given a limit.
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need pipeline1 pipeline2 pipeline3

i=0
while [ $i -lt 100 ]; do
    echo $((i * i))
    i=$((i + 1))
done >"$tmp/want"

for p in pipeline2 pipeline3; do
    timeout 20 "$book/$p" >"$tmp/$p.out" 2>"$tmp/$p.err"
    status=$?
    check "$p ends by itself with exit 0 (got $status)" [ "$status" -eq 0 ]
    check "$p prints exactly the squares of 0..99" cmp -s "$tmp/want" "$tmp/$p.out"
    check "$p prints no errors" [ ! -s "$tmp/$p.err" ]
done

timeout 20 "$book/pipeline1" 100 >"$tmp/p1.out" 2>"$tmp/p1.err"
status=$?
check "pipeline1 100 stops after 100 squares with exit 0 (got $status)" [ "$status" -eq 0 ]
check "pipeline1 100 prints exactly the squares of 0..99" cmp -s "$tmp/want" "$tmp/p1.out"

# As in the book, without a limit it never stops: read its first 100 lines;
# head's exit ends it (SIGPIPE), and timeout bounds it should it not.
timeout 20 "$book/pipeline1" 2>/dev/null | head -n 100 >"$tmp/p1inf.out"
check "pipeline1 (no limit) starts with the squares of 0..99" cmp -s "$tmp/want" "$tmp/p1inf.out"
timeout 20 "$book/pipeline1" 2>/dev/null | head -n 5000 | tail -n 1 >"$tmp/p1far.out"
check "pipeline1 (no limit) runs on: line 5000 is 4999^2 = 24990001" \
    [ "$(cat "$tmp/p1far.out")" = 24990001 ]
finish
