#!/bin/sh
# countdown_test.sh - gopl.io/ch8/countdown1..3: the countdown with a ticker;
# countdown2 and countdown3 abort when a byte arrives on standard input (the
# test feeds it through a FIFO it holds open); countdown3 stops its ticker
# (no timer pending at the end, per its --stats) and leaves no goroutine
# blocked (CSP_DEBUG=leaks reports nothing). -t MS shortens the tick.
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need countdown1 countdown2 countdown3
unset CSP_DEBUG

ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- countdown1: 10 ticks, then lift off
{
    echo 'Commencing countdown.'
    for i in 10 9 8 7 6 5 4 3 2 1; do echo $i; done
    echo 'Lift off!'
} >"$tmp/want1"
t0=$(ms)
timeout 20 "$book/countdown1" -t 20 >"$tmp/out1" 2>&1
status=$?
t=$(($(ms) - t0))
check "countdown1 -t 20 exits 0 (got $status)" [ "$status" -eq 0 ]
check "countdown1 counts 10 to 1, then Lift off!" cmp -s "$tmp/want1" "$tmp/out1"
check "countdown1 waits for its 10 ticks (${t} ms >= 200)" [ "$t" -ge 200 ]

# start_with_fifo NAME ARGS...: start a program in the background, its stdin
# a FIFO that this shell holds open read-write on fd 3 (so the program sees
# neither a byte nor end of file until we write); its pid in $pid.
start_with_fifo() {
    _name=$1
    shift
    rm -f "$tmp/fifo"
    mkfifo "$tmp/fifo" || exit 1
    exec 3<>"$tmp/fifo"
    timeout 30 "$@" <"$tmp/fifo" >"$tmp/$_name.out" 2>"$tmp/$_name.err" 3>&- &
    pid=$!
}
stop_fifo() { exec 3>&-; }

# ---- countdown2: a byte on stdin aborts the 10 s countdown at once
start_with_fifo c2abort "$book/countdown2"
wait_for 100 grep -q 'Commencing countdown' "$tmp/c2abort.out"
t0=$(ms)
printf 'x' >&3
wait $pid
status=$?
t=$(($(ms) - t0))
stop_fifo
check "countdown2: a byte on stdin aborts, exit 0 (got $status)" [ "$status" -eq 0 ]
check "countdown2 prints Launch aborted!" grep -qx 'Launch aborted!' "$tmp/c2abort.out"
check "countdown2 does not launch" eval "! grep -q 'Lift off' '$tmp/c2abort.out'"
check "countdown2 aborts at once (${t} ms < 3000 of a 10 s countdown)" [ "$t" -lt 3000 ]

# ---- countdown2: no byte, the countdown runs out and the rocket launches
start_with_fifo c2launch "$book/countdown2" -t 20
t0=$(ms)
wait $pid
status=$?
t=$(($(ms) - t0))
stop_fifo
check "countdown2 -t 20, no byte: exit 0 (got $status)" [ "$status" -eq 0 ]
check "countdown2 -t 20, no byte: Lift off!" grep -qx 'Lift off!' "$tmp/c2launch.out"
check "countdown2 -t 20, no byte: not aborted" eval "! grep -q aborted '$tmp/c2launch.out'"
check "countdown2 -t 20 waits its 10 ticks (${t} ms >= 200)" [ "$t" -ge 200 ]

# ---- countdown2: as in the book, end of file on stdin returns from the read
# and aborts too.
timeout 20 "$book/countdown2" </dev/null >"$tmp/c2eof.out" 2>&1
check "countdown2 </dev/null aborts, as the book's os.Stdin.Read does on EOF" \
    grep -qx 'Launch aborted!' "$tmp/c2eof.out"

# ---- countdown3: abort after two ticks; the ticker is stopped
start_with_fifo c3abort env CSP_DEBUG=leaks "$book/countdown3" -t 200 --stats
wait_for 100 grep -qx 8 "$tmp/c3abort.out"
printf 'x' >&3
wait $pid
status=$?
stop_fifo
check "countdown3: abort after two ticks, exit 0 (got $status)" [ "$status" -eq 0 ]
check "countdown3 counted 10, 9, 8 before the byte" \
    [ "$(sed -n '2,4p' "$tmp/c3abort.out" | tr '\n' ' ')" = '10 9 8 ' ]
check "countdown3 prints Launch aborted!" grep -qx 'Launch aborted!' "$tmp/c3abort.out"
check "countdown3 does not launch" eval "! grep -q 'Lift off' '$tmp/c3abort.out'"
check "countdown3 stopped its ticker: no timer pending (timers=0)" \
    grep -q '^stats: timers=0 ' "$tmp/c3abort.out"
check "countdown3 leaves no goroutine blocked (CSP_DEBUG=leaks is silent)" \
    [ ! -s "$tmp/c3abort.err" ]

# ---- countdown3: no byte, 10 ticks and lift off; the ticker is stopped
start_with_fifo c3launch env CSP_DEBUG=leaks "$book/countdown3" -t 20 --stats
wait $pid
status=$?
stop_fifo
check "countdown3 -t 20, no byte: exit 0 (got $status)" [ "$status" -eq 0 ]
check "countdown3 -t 20, no byte: 10 to 1 then Lift off!" \
    [ "$(sed -n '2,12p' "$tmp/c3launch.out" | tr '\n' ' ')" = '10 9 8 7 6 5 4 3 2 1 Lift off! ' ]
check "countdown3 stopped its ticker after the launch (timers=0)" \
    grep -q '^stats: timers=0 ' "$tmp/c3launch.out"
check "countdown3 after the launch: CSP_DEBUG=leaks is silent" [ ! -s "$tmp/c3launch.err" ]
finish
