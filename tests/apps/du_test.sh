#!/bin/sh
# du_test.sh - csp-du against GNU du, on a tree this script generates.
#
# The tree has sizes from empty to MiB, hard links within and across
# directories, symbolic links (to a file, to a directory, dangling, a loop of
# two, one to its own name, one to an ancestor), a FIFO, sparse files, names
# with spaces, a newline, a tab, a quote, a leading dash and UTF-8, a
# directory 100 levels deep, a directory of 10,050 entries (which fts sorts
# by inode number), and a directory no one but root may read.
#
# For each option set, csp-du's standard output must equal GNU du's byte for
# byte, unsorted: csp-du prints in GNU du's own walk order (readdir order,
# inode order past 10,000 entries, each directory after its contents), so
# names with newlines need no special care. Exit statuses must be equal, and
# the error messages too (sorted, since walkers report concurrently; the
# program name replaced). The unreadable directory is checked as the user
# nobody (csp-du and GNU du both), since root reads everything.
#
# Then csp-du's own parts: cancellation by a byte on stdin and by SIGINT
# (exit 130, partial totals marked, prompt, no goroutine left behind per
# CSP_DEBUG=leaks and --stats), end-of-file on stdin not cancelling, -v
# progress, --book, --top, --json, the thread bound.
#
# make check exports top_builddir and top_srcdir; run by hand, the defaults
# are the current directory and the tree this script is in. Nothing is
# written outside a temporary directory, which is removed at the end.

: "${top_builddir:=.}"
CSPDU=$(cd "$top_builddir" 2>/dev/null && pwd)/apps/csp-du
LC_ALL=C
export LC_ALL
unset DU_BLOCK_SIZE BLOCK_SIZE BLOCKSIZE POSIXLY_CORRECT CSP_DEBUG CSPDU_TEST_DELAY_US

passed=0
failed=0
skipped=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
skip() { skipped=$((skipped + 1)); echo "SKIP: $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    if [ -s "$tmp/why" ]; then
        head -n 30 "$tmp/why" | sed 's/^/    | /'
    fi
}
finish() {
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
}

if [ ! -x "$CSPDU" ]; then
    echo "FAIL: $CSPDU is not built"
    failed=1
    finish
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/csp-du-test.XXXXXX") || exit 1
cleanup() {
    chmod -R u+rwx "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup 0
trap 'exit 1' 1 2 15
chmod 755 "$tmp" # the unprivileged user must reach the tree
cd "$tmp" || exit 1

if du --version 2>/dev/null | grep -q GNU; then
    have_gnu=yes
else
    have_gnu=no
fi

# ----------------------------------------------------------------------------
# The tree
# ----------------------------------------------------------------------------

zeros() { dd if=/dev/zero of="$1" bs="$2" count="$3" 2>/dev/null; }

make_tree() {
    mkdir -p t/empty t/sizes t/links t/sym t/sparse "t/with space" t/many/sub t/locked/inner
    : >t/sizes/empty
    printf x >t/sizes/one
    zeros t/sizes/b4095 4095 1
    zeros t/sizes/b4096 4096 1
    zeros t/sizes/b4097 4097 1
    zeros t/sizes/k100.dat 1024 100
    zeros t/sizes/m1.dat 1048576 1
    zeros t/sizes/m3.dat 1048576 3
    # Hard links: the same directory, other directories, three names.
    zeros t/links/orig 1024 64
    ln t/links/orig t/links/same-dir
    ln t/links/orig t/sizes/other-dir
    ln t/links/orig "t/with space/third link"
    zeros t/links/pair-a 1024 8
    ln t/links/pair-a t/sym/pair-b
    # Symbolic links.
    ln -s ../sizes/m1.dat t/sym/to-file
    ln -s ../sizes t/sym/to-dir
    ln -s ../links t/empty/to-links
    ln -s nowhere t/sym/dangling
    ln -s loop-b t/sym/loop-a
    ln -s loop-a t/sym/loop-b
    ln -s self t/sym/self
    ln -s .. t/sym/up
    mkfifo t/sym/fifo
    # Sparse: all hole, and a few blocks at 4 MB.
    truncate -s 50M t/sparse/hole
    dd if=/dev/zero of=t/sparse/partial bs=4096 count=4 seek=1000 2>/dev/null
    # Names.
    : >"t/with space/a file"
    : >"t/with space/new
line"
    : >"t/with space/tab	here"
    : >"t/with space/quote'd"
    : >"t/with space/-dash"
    printf 'caf\303\251' >"t/with space/caf$(printf '\303\251')"
    mkdir "t/with space/dir
with newline"
    printf y >"t/with space/dir
with newline/inside"
    # 100 levels.
    d=t/deep
    i=0
    while [ $i -lt 100 ]; do
        d=$d/l$i
        i=$((i + 1))
    done
    mkdir -p "$d"
    printf bottom >"$d/file"
    # More than 10,000 entries: fts reads them sorted by inode number.
    (cd t/many && seq 10050 | sed 's/^/f/' | xargs touch && zeros sub/x 1024 4 && ln f7 sub/f7-link)
    # Readable by root only.
    printf secret >t/locked/secret
    printf s >t/locked/inner/s
    chmod 000 t/locked
}

make_tree

# ----------------------------------------------------------------------------
# Equal to GNU du
# ----------------------------------------------------------------------------

# run_both [RUNNER...] -- ARGS: csp-du and du with ARGS into $tmp/{ours,gnu}
# (stdout), $tmp/{ours,gnu}.err (stderr, program name replaced, sorted) and
# $ours_rc/$gnu_rc. stdin is /dev/null: end-of-file, which must not cancel.
run_both() {
    runner=
    while [ "$1" != -- ]; do
        runner="$runner $1"
        shift
    done
    shift
    $runner "$CSPDU" "$@" >"$tmp/ours" 2>"$tmp/ours.raw" </dev/null
    ours_rc=$?
    $runner du "$@" >"$tmp/gnu" 2>"$tmp/gnu.raw" </dev/null
    gnu_rc=$?
    sed 's/^csp-du: /PROG: /' "$tmp/ours.raw" | sort >"$tmp/ours.err"
    sed 's/^du: /PROG: /' "$tmp/gnu.raw" | sort >"$tmp/gnu.err"
}

# same_as_gnu NAME [RUNNER...] -- ARGS
same_as_gnu() {
    name=$1
    shift
    if [ $have_gnu = no ]; then
        skip "$name: GNU du is not installed"
        return
    fi
    run_both "$@"
    {
        echo "exit status: csp-du $ours_rc, du $gnu_rc"
        diff "$tmp/ours" "$tmp/gnu" | sed -n l
        diff "$tmp/ours.err" "$tmp/gnu.err"
    } >"$tmp/why"
    if [ $ours_rc -eq $gnu_rc ] && cmp -s "$tmp/ours" "$tmp/gnu" && cmp -s "$tmp/ours.err" "$tmp/gnu.err"; then
        pass "$name: equals GNU du byte for byte ($(wc -l <"$tmp/ours") lines, exit $ours_rc)"
    else
        fail "$name: differs from GNU du"
    fi
}

same_as_gnu "default" -- t
same_as_gnu "-s" -- -s t
same_as_gnu "-b -s" -- -b -s t
same_as_gnu "-a" -- -a t
same_as_gnu "-h -d 1" -- -h -d 1 t
same_as_gnu "-c" -- -c t
same_as_gnu "-x" -- -x t
same_as_gnu "-L (with loops and dangling links)" -- -L t
same_as_gnu "-L -a" -- -L -a t
same_as_gnu "-L -l (cycle, counted twice)" -- -L -l t
same_as_gnu "-b -a" -- -b -a t
same_as_gnu "--apparent-size -a" -- --apparent-size -a t
same_as_gnu "-a -h" -- -a -h t
same_as_gnu "--si -a" -- --si -a t
same_as_gnu "-m -c" -- -m -c t
same_as_gnu "-S" -- -S t
same_as_gnu "-l -a" -- -l -a t
same_as_gnu "-0 -a" -- -0 -a t
same_as_gnu "--max-depth=2 -a" -- --max-depth=2 -a t
same_as_gnu "-d 0" -- -d 0 t
same_as_gnu "--exclude='*.dat'" -- --exclude='*.dat' t
same_as_gnu "--exclude=sym -a" -- --exclude=sym -a t
same_as_gnu "--exclude='t/w*' (path pattern)" -- --exclude='t/w*' t
same_as_gnu "several roots, overlapping and repeated" -- t/sizes t/links t/sizes t/with\ space t
same_as_gnu "file and symlink arguments" -- -a t/sizes/m1.dat t/sym/to-dir t/sym/dangling
same_as_gnu "-D on a symlink argument" -- -D -s t/sym/to-dir
same_as_gnu "trailing slashes" -- -a t/links// t/sizes/
same_as_gnu "missing argument" -- t/does-not-exist t/links
same_as_gnu "-a in a directory of 10,050 entries (inode order)" -- -a t/many

# Unreadable directory: as an unprivileged user, for whom it really is.
if [ "$(id -u)" -eq 0 ]; then
    if command -v setpriv >/dev/null 2>&1; then
        runas="setpriv --reuid=nobody --regid=nogroup --clear-groups"
    else
        runas="runuser -u nobody --"
    fi
    # shellcheck disable=SC2086 # $runas is a command and its arguments
    if $runas "$CSPDU" --version >/dev/null 2>&1; then
        same_as_gnu "unreadable directory, as nobody" $runas -- t
        same_as_gnu "unreadable directory, as nobody, -a -c" $runas -- -a -c t
        same_as_gnu "unreadable directory, as nobody, -s" $runas -- -s t
        cp "$tmp/ours.raw" "$tmp/why"
        if grep -q "cannot read directory 't/locked': Permission denied" "$tmp/ours.raw" && [ "$ours_rc" -eq 1 ]; then
            pass "unreadable directory: reported on stderr as GNU du does, exit 1"
        else
            fail "unreadable directory: no 'cannot read directory' message or exit $ours_rc"
        fi
    else
        skip "unreadable directory: nobody cannot run $CSPDU"
    fi
else
    same_as_gnu "unreadable directory" -- t
fi

# -x across a real mount point, in a private mount namespace (root only).
if [ $have_gnu = no ]; then
    skip "-x across a mount point: GNU du is not installed"
elif [ "$(id -u)" -eq 0 ] && unshare -m sh -c "mount -t tmpfs none '$tmp/t/empty'" 2>/dev/null; then
    unshare -m sh -c "
        mount -t tmpfs none '$tmp/t/empty' &&
        dd if=/dev/zero of='$tmp/t/empty/on-tmpfs' bs=1024 count=64 2>/dev/null &&
        '$CSPDU' -x -a t >'$tmp/ours' 2>&1; echo \$? >>'$tmp/ours'
        du -x -a t >'$tmp/gnu' 2>&1; echo \$? >>'$tmp/gnu'
        '$CSPDU' -a t >'$tmp/ours2' 2>&1
        du -a t >'$tmp/gnu2' 2>&1" </dev/null
    diff "$tmp/ours" "$tmp/gnu" >"$tmp/why"
    diff "$tmp/ours2" "$tmp/gnu2" >>"$tmp/why"
    if [ ! -s "$tmp/why" ] && grep -q on-tmpfs "$tmp/ours2" && ! grep -q on-tmpfs "$tmp/ours"; then
        pass "-x with a tmpfs mounted inside the tree: equals GNU du, with and without -x"
    else
        fail "-x with a tmpfs mounted inside the tree"
    fi
else
    skip "-x across a mount point: cannot mount here"
fi

# ----------------------------------------------------------------------------
# Cancellation
# ----------------------------------------------------------------------------

# 400 directories; CSPDU_TEST_DELAY_US=50000 makes reading each take 50 ms,
# so a whole walk takes about 400 x 50 ms / 4 jobs (-j 4) = 5 s: long enough to
# cancel at 0.5 s on a loaded machine, and to see that the stop is prompt.
mkdir wide
(cd wide && for a in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do
    printf "d$a/e%s\n" 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
done | xargs mkdir -p)
# The full total, in the units the checks use (-b: apparent bytes).
if [ $have_gnu = yes ]; then
    full=$(du -s -b wide | cut -f1)
else
    full=$("$CSPDU" -s -b wide </dev/null | cut -f1)
fi
now_ms() { date +%s%3N; }

# check_cancelled NAME RC ELAPSED_MS: the common checks on $tmp/out, $tmp/err.
check_cancelled() {
    name=$1
    rc=$2
    ms=$3
    size=$(cut -f1 "$tmp/out")
    {
        echo "exit $rc, ${ms} ms, output:"
        cat "$tmp/out"
        echo "stderr:"
        cat "$tmp/err"
    } >"$tmp/why"
    if [ "$rc" -ne 130 ]; then
        fail "$name: exit status $rc, not 130"
    elif ! grep -qx "csp-du: interrupted: totals are partial" "$tmp/err"; then
        fail "$name: no 'totals are partial' message"
    elif ! grep -q '^[0-9][0-9]*	wide$' "$tmp/out" || [ "$size" -ge "$full" ]; then
        fail "$name: no partial total (full is $full bytes)"
    elif grep -q '^csp:' "$tmp/err"; then
        fail "$name: goroutines left behind (CSP_DEBUG=leaks)"
    elif ! grep -q 'goroutines left 0,' "$tmp/err"; then
        fail "$name: --stats shows goroutines left"
    elif [ "$ms" -gt 3000 ]; then
        fail "$name: took $ms ms to stop"
    else
        pass "$name: exit 130, partial total $size of $full bytes, stopped after $ms ms, no goroutine left"
    fi
}

t0=$(now_ms)
(sleep 0.5; echo x) | CSPDU_TEST_DELAY_US=50000 CSP_DEBUG=leaks "$CSPDU" -j 4 -s -b --stats wide >"$tmp/out" 2>"$tmp/err"
rc=$?
check_cancelled "a byte on stdin cancels" $rc $(($(now_ms) - t0))

if env --default-signal=INT true 2>/dev/null; then
    # A background job of a script starts with SIGINT ignored (and csp-du
    # then leaves it so); env gives it back its default.
    t0=$(now_ms)
    CSPDU_TEST_DELAY_US=50000 CSP_DEBUG=leaks env --default-signal=INT "$CSPDU" -j 4 -s -b --stats wide \
        </dev/null >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    sleep 0.5
    kill -INT $pid
    wait $pid
    rc=$?
    check_cancelled "SIGINT cancels" $rc $(($(now_ms) - t0))
else
    skip "SIGINT: env --default-signal is not available"
fi

# End-of-file on stdin must not cancel: /dev/null, an empty pipe, a file.
expect_full() {
    name=$1
    rc=$2
    {
        echo "exit $rc"
        cat "$tmp/out" "$tmp/err"
    } >"$tmp/why"
    if [ "$rc" -eq 0 ] && [ "$(cat "$tmp/out")" = "$full	wide" ] && ! grep -q . "$tmp/err"; then
        pass "$name: full total, exit 0"
    else
        fail "$name: cancelled or wrong total (want $full)"
    fi
}
CSPDU_TEST_DELAY_US=2000 CSP_DEBUG=leaks "$CSPDU" -s -b wide </dev/null >"$tmp/out" 2>"$tmp/err"
expect_full "stdin at end-of-file (/dev/null) does not cancel" $?
: | CSPDU_TEST_DELAY_US=2000 CSP_DEBUG=leaks "$CSPDU" -s -b wide >"$tmp/out" 2>"$tmp/err"
expect_full "an empty pipe on stdin does not cancel" $?
echo data >"$tmp/list"
CSPDU_TEST_DELAY_US=2000 "$CSPDU" -s -b wide <"$tmp/list" >"$tmp/out" 2>"$tmp/err"
expect_full "a regular file on stdin is not read" $?

# ----------------------------------------------------------------------------
# csp-du's own output forms and limits
# ----------------------------------------------------------------------------

# -v: not a terminal here, so plain progress lines every 500 ms (the walk
# takes about 400 x 10 ms / 4 = 1 s).
CSPDU_TEST_DELAY_US=10000 "$CSPDU" -j 4 -v -s wide </dev/null >"$tmp/out" 2>"$tmp/err"
n=$(grep -c '^[0-9][0-9]* files  [0-9][0-9]*\.[0-9] GB  ([0-9][0-9]* directories)$' "$tmp/err")
cp "$tmp/err" "$tmp/why"
if [ "$n" -ge 1 ] && ! grep -q "$(printf '\r')" "$tmp/err"; then
    pass "-v: $n plain progress lines on stderr"
else
    fail "-v: no progress lines"
fi

# -v on a terminal (script(1) gives it one): one line rewritten in place
# with a carriage return, erased before the result.
if command -v script >/dev/null 2>&1; then
    script -qc "CSPDU_TEST_DELAY_US=10000 '$CSPDU' -j 4 -v -s wide" "$tmp/tty" </dev/null >/dev/null 2>&1
    cat -v "$tmp/tty" >"$tmp/why"
    if grep -q '\^M[0-9]* files  [0-9.]* GB  ([0-9]* directories)\^\[\[K' "$tmp/why" &&
        grep -q '\^M\^\[\[K[0-9]*	wide' "$tmp/why"; then
        pass "-v on a terminal: one line rewritten in place, then erased"
    else
        fail "-v on a terminal"
    fi
else
    skip "-v on a terminal: script(1) is not installed"
fi

# --book: the book's line; files are the distinct non-directory inodes.
if [ $have_gnu = yes ] && find t -maxdepth 0 -printf '' 2>/dev/null; then
    files=$(find t ! -type d -printf '%i\n' 2>/dev/null | sort -u | wc -l)
    bytes=$(du -s -B1 t 2>/dev/null | cut -f1)
    want=$(awk -v f="$files" -v b="$bytes" 'BEGIN { printf "%d files  %.1f GB\n", f, b / 1e9 }')
    got=$("$CSPDU" --book t </dev/null 2>/dev/null)
    echo "got '$got', want '$want'" >"$tmp/why"
    if [ "$got" = "$want" ]; then
        pass "--book: '$got'"
    else
        fail "--book"
    fi
else
    skip "--book: needs GNU du and find"
fi

# --top: the largest of du's lines, ties in du's order.
if [ $have_gnu = yes ]; then
    "$CSPDU" --top 4 -c t/deep t/sizes t/links </dev/null >"$tmp/ours" 2>&1
    du t/deep t/sizes t/links | sort -s -t '	' -k1,1nr | head -n 4 >"$tmp/gnu"
    du -c t/deep t/sizes t/links | tail -n 1 >>"$tmp/gnu"
    if diff "$tmp/ours" "$tmp/gnu" >"$tmp/why"; then
        pass "--top 4 -c: GNU du's lines, largest first"
    else
        fail "--top"
    fi
fi

# --json: valid, and the same numbers as the plain output.
if command -v python3 >/dev/null 2>&1; then
    "$CSPDU" --json -a -b t </dev/null >"$tmp/out" 2>"$tmp/err"
    "$CSPDU" -a -b -c t </dev/null >"$tmp/plain" 2>/dev/null
    if python3 - "$tmp/out" "$tmp/plain" >"$tmp/why" 2>&1 <<'EOF'
import json, sys
j = json.load(open(sys.argv[1], encoding="utf-8"))
plain = open(sys.argv[2], "rb").read().decode("utf-8", "replace").split("\n")[:-1]
lines = ["%d\t%s" % (e["size"], e["path"]) for e in j["entries"]]
lines.append("%d\ttotal" % j["total"]["size"])
assert j["partial"] is False and j["apparent_size"] is True, j
# Names with a newline split a plain line in two: compare joined.
assert "\n".join(lines) == "\n".join(plain), (lines[:3], plain[:3])
EOF
    then
        pass "--json: valid JSON, same entries and total as the plain output"
    else
        fail "--json"
    fi
else
    skip "--json: python3 is not installed"
fi

# Threads stay bounded by --jobs, not by the number of directories: at most
# 3 walkers at once, plus the launcher and the watcher; the pool may hold a
# few more threads for a moment, as a finished walker's thread returns to
# the pool only after it has handed its token back.
"$CSPDU" -j 3 --stats -s t </dev/null >/dev/null 2>"$tmp/err"
peak=$(sed -n 's/.*threads peak \([0-9]*\),.*/\1/p' "$tmp/err")
cp "$tmp/err" "$tmp/why"
if [ -n "$peak" ] && [ "$peak" -le 8 ]; then
    pass "-j 3: $peak pooled threads at most, for $(find t -type d 2>/dev/null | wc -l) directories"
else
    fail "-j 3: threads peak '$peak' is over 2 x 3 + 2"
fi

# Usage errors as GNU du's.
"$CSPDU" -a -s t </dev/null >/dev/null 2>"$tmp/err"
rc=$?
cp "$tmp/err" "$tmp/why"
if [ $rc -eq 1 ] && grep -q "cannot both summarize and show all entries" "$tmp/err"; then
    pass "-a -s: refused as GNU du refuses it, exit 1"
else
    fail "-a -s: exit $rc"
fi
: >"$tmp/why"
if "$CSPDU" --help </dev/null | grep -q '^Usage: csp-du'; then
    pass "--help"
else
    fail "--help"
fi

finish
