#!/bin/sh
# du_test.sh - gopl.io/ch8/du1..du4: on a tree made by apps/samples/mktree
# (plain, sparse and empty files, hard links, symbolic links), each program's
# exact totals (-b) equal the book's definition computed with find: every
# entry that is not a directory, its lstat size, once per name. du2 and du3
# print progress totals under -v; du4 is cancelled by a byte on standard
# input while the walk runs and then reports no goroutine left (--stats).
# A directory that cannot be opened (mode 000, or a path longer than
# PATH_MAX) gives an error line and the rest is still counted.
#
# Run by make check from the build directory (top_builddir, top_srcdir set).
# Prints one line per check and "N passed, N failed"; exits 1 on failure.

: "${top_srcdir:=$(dirname "$0")/../..}"
. "$top_srcdir/tests/book/lib.sh"
need du1 du2 du3 du4
unset CSP_DEBUG
# ThreadSanitizer sleeps 1 s at every exit by default (atexit_sleep_ms): too
# long for the 15 or so runs here. Options set by the caller still win.
TSAN_OPTIONS="atexit_sleep_ms=50${TSAN_OPTIONS:+ $TSAN_OPTIONS}"
export TSAN_OPTIONS
mktree=$top_builddir/apps/samples/mktree
if [ ! -x "$mktree" ]; then
    echo "$0: $mktree is missing: build it first" >&2
    fail "mktree is built"
    finish
fi

# ---- the tree, and the reference totals
# 100 directories of 4 files: some 400 files and 4 MB (mostly holes and
# small files). Small, because on a loaded machine each unbuffered hand-off
# of du1 and du2 may wait for a scheduler slice; where a check needs a longer
# walk, it names the tree several times.
tree=$tmp/tree
"$mktree" "$tree" 100 4 || exit 1
# totals DIR...: "N files  N bytes" as the book counts them (a DIR named
# twice counts twice, in du too).
totals() {
    find "$@" -mindepth 1 ! -type d -printf '%s\n' |
        awk '{ n++; s += $1 } END { printf "%d files  %.0f bytes\n", n, s }'
}
want=$(totals "$tree")
nwant=${want%% *}
check "mktree made symbolic links" [ -n "$(find "$tree" -type l)" ]
check "mktree made hard links" [ -n "$(find "$tree" -type f -links +1)" ]
# want_times K: the totals for the tree named K times, in $want_k.
want_times() {
    want_k=$(echo "$want" | awk -v k="$1" '{ printf "%d files  %.0f bytes\n", k * $1, k * $3 }')
}

# du4 reads standard input: for the runs that must not be cancelled, give it
# a FIFO this shell holds open on fd 3 and never writes to.
mkfifo "$tmp/quiet" || exit 1
exec 3<>"$tmp/quiet"

# run NAME PROG ARGS...: PROG's stdout in $tmp/NAME.out, stderr in
# $tmp/NAME.err, exit status in $status.
run() {
    _name=$1
    shift
    timeout 60 "$@" <"$tmp/quiet" >"$tmp/$_name.out" 2>"$tmp/$_name.err"
    status=$?
}
last() { tail -n 1 "$tmp/$1.out"; }

# ---- exact totals of two roots, the tree and its d3 (du1, du2 walk them in
# turn; du3, du4 at once)
want2=$(totals "$tree" "$tree/d3")
for p in du1 du2 du3; do
    run "$p" "$book/$p" -b "$tree" "$tree/d3"
    check "$p -b exits 0 (got $status)" [ "$status" -eq 0 ]
    check "$p -b prints $want2 alone" [ "$(cat "$tmp/$p.out")" = "$want2" ]
    check "$p -b: nothing on stderr" [ ! -s "$tmp/$p.err" ]
done
# du4 ticks every 500 ms unasked: its totals are the last line. With no
# input, its stdin reader is still blocked in read at the end.
run du4 "$book/du4" -b --stats "$tree" "$tree/d3"
check "du4 -b --stats exits 0 (got $status)" [ "$status" -eq 0 ]
check "du4 -b --stats ends with $want2" [ "$(last du4)" = "$want2" ]
check "du4 --stats, no input: goroutines=1, the stdin reader" \
    [ "$(cat "$tmp/du4.err")" = "du4: goroutines=1" ]

# ---- the default root "." and the book's output
gb=$(totals "$tree/d3" | awk '{ printf "%d files  %.1f GB\n", $1, $3 / 1e9 }')
(cd "$tree/d3" && run du1-dot "$book/du1")
check "du1 in tree/d3, no argument, prints the book's '$gb'" \
    [ "$(cat "$tmp/du1-dot.out")" = "$gb" ]

# ---- -v: progress totals every tick (-t 1: 1 ms), then the final ones
# progress_ok NAME: at least one progress line before the final one, every
# line "N files  N bytes", counts never decreasing, the last line $want_k.
progress_ok() {
    awk -v want="$want_k" '
        !/^[0-9]+ files  [0-9]+ bytes$/ { bad = 1 }
        $1 + 0 < n || $3 + 0 < s { bad = 1 }
        { n = $1 + 0; s = $3 + 0; last = $0 }
        END { exit !(NR >= 2 && !bad && last == want) }' "$tmp/$1.out"
}
for p in du2 du3; do
    # A fast machine may walk the tree before the first tick: then walk it
    # 4 times, then 16.
    for k in 1 4 16; do
        want_times "$k"
        set --
        while [ $# -lt "$k" ]; do set -- "$@" "$tree"; done
        run "$p-v" "$book/$p" -v -t 1 -b "$@"
        [ "$(wc -l <"$tmp/$p-v.out")" -ge 2 ] && break
    done
    check "$p -v exits 0 (got $status)" [ "$status" -eq 0 ]
    check "$p -v -t 1, tree x$k: progress totals, then $want_k ($(wc -l <"$tmp/$p-v.out") lines)" \
        progress_ok "$p-v"
done

# ---- du4: a byte on stdin while the walk runs cancels it
# The byte is written as soon as du4 has printed a progress line with a file
# counted (-t 1), so the walk has begun. If the walk ended before du4 saw
# the byte (exit 0), try again with more of it.
for k in 4 8 16 32 64; do
    want_times "$k"
    set --
    while [ $# -lt "$k" ]; do set -- "$@" "$tree"; done
    rm -f "$tmp/in"
    mkfifo "$tmp/in" || exit 1
    exec 4<>"$tmp/in"
    {
        timeout 60 "$book/du4" -b -t 1 --stats "$@" <"$tmp/in" 2>"$tmp/du4-cancel.err" 4>&-
        echo $? >"$tmp/du4-cancel.status"
    } | {
        while IFS= read -r line; do
            echo "$line"
            case $line in
            '0 files'*) ;;
            *)
                printf x >&4
                break
                ;;
            esac
        done
        cat
    } >"$tmp/du4-cancel.out"
    exec 4>&-
    status=$(cat "$tmp/du4-cancel.status")
    [ "$status" -ne 0 ] && break
done
check "du4: a byte on stdin during the walk cancels it: exit 3 (got $status; tree x$k, stopped at '$(tail -n 1 "$tmp/du4-cancel.out")')" \
    [ "$status" -eq 3 ]
check "du4 cancelled: every goroutine returned (goroutines=0)" \
    [ "$(cat "$tmp/du4-cancel.err")" = "du4: goroutines=0" ]

# ---- du4: end of file on stdin cancels too (the book's os.Stdin.Read). The
# reader may close done before the walk has begun: then main's select may
# see fileSizes closed first and print the (short) totals, exit 0, as the
# book's would. Should the walk end before the reader ran at all (a loaded
# machine), try again.
eof_cancelled() {
    [ "$status" -eq 3 ] && return 0
    [ "$status" -eq 0 ] && [ "${n:-0}" -lt "$nwant" ]
}
for try in 1 2 3; do
    timeout 60 "$book/du4" -b --stats "$tree" </dev/null >"$tmp/du4-eof.out" 2>"$tmp/du4-eof.err"
    status=$?
    n=$(last du4-eof | awk '{ print $1 + 0 }')
    eof_cancelled && break
done
check "du4 </dev/null is cancelled (exit 3, or 0 with ${n:-0} < $nwant files; got $status, try $try)" \
    eof_cancelled
check "du4 </dev/null: goroutines=0" [ "$(cat "$tmp/du4-eof.err")" = "du4: goroutines=0" ]

# ---- directories that cannot be opened: an error line each, the rest counted
# err/a (3 bytes), err/sub/b (5), err/link -> a (1), err/locked/secret (7)
# with locked mode 000, and err/long/X/X/...: 250-byte names, a 1-byte file
# f in each level, down to a level whose path is PATH_MAX (4096) or longer,
# which open(2) refuses (ENAMETOOLONG) whoever runs the test.
err=$tmp/err
mkdir -p "$err/sub" "$err/locked" "$err/long" || exit 1
printf abc >"$err/a"
printf 12345 >"$err/sub/b"
ln -s a "$err/link"
printf 1234567 >"$err/locked/secret"
x50=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
x250=$x50$x50$x50$x50$x50
long_files=$(
    cd "$err/long" || exit 1
    path=$err/long
    n=0
    while :; do
        mkdir "$x250" && printf 1 >"$x250/f" || exit 1
        path=$path/$x250
        [ ${#path} -ge 4096 ] && break
        n=$((n + 1))
        cd "$x250" || exit 1
    done
    echo $n
) || exit 1
files=$((3 + long_files))
bytes=$((3 + 5 + 1 + long_files))
# Mode 000 keeps out anyone but root: root runs the programs as nobody
# (setpriv), if nobody can run them here; else that part is skipped.
trap 'chmod 755 "$err/locked" 2>/dev/null; rm -rf "$tmp"' EXIT
chmod 000 "$err/locked"
runner=
if [ "$(id -u)" -eq 0 ]; then
    runner="setpriv --reuid=65534 --regid=65534 --clear-groups"
    chmod 755 "$tmp"
    { $runner "$book/du1" -b "$err/sub" | grep -qx '1 files  5 bytes'; } 2>/dev/null || runner=none
fi
nerr=2 # locked and long
if [ "$runner" = none ] || $runner ls "$err/locked" >/dev/null 2>&1; then
    echo "SKIP: mode 000 does not keep this user out here (root without setpriv?): not tested"
    runner=
    chmod 755 "$err/locked"
    files=$((files + 1))
    bytes=$((bytes + 7))
    nerr=1
fi
for p in du1 du2 du3 du4; do
    # shellcheck disable=SC2086 # $runner is a command line, or nothing
    run "$p-err" $runner "$book/$p" -b "$err"
    check "$p: unopenable directories: exit 0 (got $status)" [ "$status" -eq 0 ]
    check "$p: the rest is counted: $files files  $bytes bytes" \
        [ "$(last "$p-err")" = "$files files  $bytes bytes" ]
    if [ "$nerr" -eq 2 ]; then
        check "$p reports 'open $err/locked: Permission denied'" \
            grep -qxF "$p: open $err/locked: Permission denied" "$tmp/$p-err.err"
    fi
    check "$p reports the path too long ($long_files levels were opened)" \
        grep -qx "$p: open $err/long/.*: File name too long" "$tmp/$p-err.err"
    check "$p: no other error line" \
        [ "$(wc -l <"$tmp/$p-err.err")" -eq "$nerr" ]
done
chmod 755 "$err/locked"
finish
