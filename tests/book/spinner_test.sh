#!/bin/sh
# spinner_test.sh - gopl.io/ch8/spinner: the spinner turns while fib runs,
# then the result is printed.
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need spinner

# fib(40) takes some 100 ms of the CPU (gcc -O2 makes the naive recursion
# fast); with a 1 ms frame the spinner draws many frames meanwhile. On a
# loaded machine (or under a sanitizer) the goroutine may start too late for
# that, so a run with no second frame is repeated with a slower fib.
for n in 40 44 46; do
    timeout 60 "$book/spinner" -d 1 "$n" >"$tmp/out" 2>"$tmp/err"
    status=$?
    tr '\r' '\n' <"$tmp/out" >"$tmp/frames"
    grep -qx '\\' "$tmp/frames" && break
done
want=$(awk -v n="$n" 'BEGIN { a = 0; b = 1; for (i = 0; i < n; i++) { t = a + b; a = b; b = t }; printf "Fibonacci(%d) = %.0f", n, a }')
check "spinner -d 1 $n exits 0 (got $status)" [ "$status" -eq 0 ]
check "no error output" [ ! -s "$tmp/err" ]
check "prints $want" grep -qx "$want" "$tmp/frames"
check "the result is the last line" [ "$(tail -n 1 "$tmp/frames")" = "$want" ]
check "draws the spinner's first frame '-'" grep -qx -- '-' "$tmp/frames"
check "draws its second frame '\\'" grep -qx '\\' "$tmp/frames"
check "each frame starts with a carriage return" \
    [ "$(head -c 2 "$tmp/out" | od -An -c | tr -d ' ')" = '\r-' ]

timeout 20 "$book/spinner" 20 >"$tmp/out2" 2>&1
check "the default 100 ms frame, small n: Fibonacci(20) = 6765" \
    grep -q 'Fibonacci(20) = 6765' "$tmp/out2"
timeout 5 "$book/spinner" x >/dev/null 2>&1
check "a bad argument is a usage error (exit 2)" [ $? -eq 2 ]
finish
