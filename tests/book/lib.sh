# lib.sh - helpers for the book programs' tests, sourced by tests/book/*_test.sh.
#
# make check exports top_builddir and top_srcdir; run by hand, the defaults are
# the current directory and this script's tree. Tests write only into $tmp, a
# temporary directory removed at exit.

: "${top_builddir:=.}"
: "${top_srcdir:=$(dirname "$0")/../..}"
# Absolute, so that a test may cd: make check passes top_builddir=. here.
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
book=$top_builddir/apps/book

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1"; }
# check NAME COMMAND...: pass if COMMAND succeeds, else fail.
check() {
    name=$1
    shift
    if "$@"; then pass "$name"; else fail "$name"; fi
}
# finish: print the counts; exit 1 when any check failed.
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ] || exit 1
    exit 0
}

# need NAME...: stop (as a failure) unless each program is built.
need() {
    for _n in "$@"; do
        if [ ! -x "$book/$_n" ]; then
            echo "$0: $book/$_n is missing: build it first" >&2
            fail "$_n is built"
            finish
        fi
    done
}

# wait_for TENTHS COMMAND...: poll COMMAND every 0.1 s until it succeeds, at
# most TENTHS times; fails if it never did. COMMAND's errors are not shown.
wait_for() {
    _n=$1
    shift
    while [ "$_n" -gt 0 ]; do
        "$@" 2>/dev/null && return 0
        sleep 0.1
        _n=$((_n - 1))
    done
    "$@" 2>/dev/null
}

# Bound every program with timeout(1): `timeout 20 prog &` then `wait $!`
# returns as soon as prog ends, or gives 124 when it hung.

tmp=$(mktemp -d "${TMPDIR:-/tmp}/booktest.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
