#!/bin/sh
# bank_memo_test.sh - gopl.io/ch9/bank1 and ch9/memo5, the monitor goroutine
# patterns. bank1: N concurrent depositors of 1..N leave a balance of
# N(N+1)/2. memo: concurrent clients asking for the same keys get the right
# values and the slow function runs exactly once per key (duplicate
# suppression); Close stops the server (CSP_DEBUG=leaks reports nothing).
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need bank1 memo
unset CSP_DEBUG

for n in 1 100 300; do
    want=$((n * (n + 1) / 2))
    out=$(timeout 60 "$book/bank1" $n 2>&1)
    status=$?
    check "bank1 $n: exit 0 (got $status), balance $want" \
        [ "$status.$out" = "0.balance $want (expected $want)" ]
done
# The teller serves until the program ends, as in the book: it is the one
# goroutine CSP_DEBUG=leaks may find blocked at exit (or none, when the exit
# catches it between two selects); no depositor may be left.
CSP_DEBUG=leaks timeout 60 "$book/bank1" 10 >/dev/null 2>"$tmp/bank.err"
check "bank1: no goroutine but the teller is left at exit" \
    eval "! grep 'spawned at' '$tmp/bank.err' | grep -qv '(teller)\$'"

# memo_run NAME ARGS...: run memo; its summary line's numbers in the
# variables requests, calls, keys, notonce, wrong; its status in status.
memo_run() {
    _name=$1
    shift
    CSP_DEBUG=leaks timeout 60 "$book/memo" "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.err"
    status=$?
    set -- $(sed -n 's/^requests \([0-9]*\), calls \([0-9]*\), keys \([0-9]*\), keys not called exactly once \([0-9]*\), wrong values \([0-9]*\)$/\1 \2 \3 \4 \5/p' "$tmp/$_name.out")
    requests=${1:-x} calls=${2:-x} keys=${3:-x} notonce=${4:-x} wrong=${5:-x}
}

memo_run default
check "memo (20 clients, 10 keys, 2 rounds): exit 0 (got $status)" [ "$status" -eq 0 ]
check "memo: 400 requests, 10 calls: one per key" [ "$requests.$calls.$keys.$notonce" = 400.10.10.0 ]
check "memo: every client got the right value for every key" [ "$wrong" = 0 ]
check "memo: Close stopped the server and its helpers (CSP_DEBUG=leaks is silent)" \
    [ ! -s "$tmp/default.err" ]

memo_run onekey -m 30 -k 1 -r 1 -d 50
check "memo: 30 clients ask for one slow key at once: exit 0 (got $status)" [ "$status" -eq 0 ]
check "memo: ... and the function ran once ($calls call) for 30 requests" \
    [ "$requests.$calls.$notonce.$wrong" = 30.1.0.0 ]

memo_run many -m 40 -k 25 -r 3 -d 10
check "memo -m 40 -k 25 -r 3: exit 0 (got $status)" [ "$status" -eq 0 ]
check "memo -m 40 -k 25 -r 3: 3000 requests, 25 calls, all values right" \
    [ "$requests.$calls.$notonce.$wrong" = 3000.25.0.0 ]
check "memo -m 40 -k 25 -r 3: CSP_DEBUG=leaks is silent" [ ! -s "$tmp/many.err" ]
finish
