#!/bin/sh
# doc_examples.sh - every complete C program in the documentation must
# compile, link against the built library, run by itself and exit 0.
#
# Examples are taken from README.md (```c fenced blocks that contain
# "main(") and from the EXAMPLES sections of man/*.3 (.EX/.EE blocks that
# contain "main(", with the roff escapes undone). Each is built in a
# temporary directory, never in the source tree (make distcheck makes it
# read-only), and run there with stdin from /dev/null and a 10 s limit.
#
# make check exports CC, CFLAGS, LDFLAGS, top_srcdir and top_builddir; run
# by hand, e.g. from the build directory:
#   top_srcdir=/path/to/src top_builddir=. sh /path/to/src/tests/doc_examples.sh

: "${CC:=cc}"
: "${top_srcdir:=$(dirname "$0")/..}"
: "${top_builddir:=.}"
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 1
top_builddir=$(cd "$top_builddir" && pwd) || exit 1
LC_ALL=C
export LC_ALL

tmp=$(mktemp -d "${TMPDIR:-/tmp}/csp-examples.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' 0
trap 'exit 1' 1 2 15

# ---------------------------------------------------------------------------
# Extraction: one file per example, $tmp/exN.c, and its origin in $tmp/exN.src
# ---------------------------------------------------------------------------

n=0
# Writes the blocks printed by awk (separated by lines "@@@ origin") to files.
split_blocks() {
    origin=
    while IFS= read -r line; do
        case $line in
        "@@@ "*)
            n=$((n + 1))
            origin=${line#@@@ }
            printf '%s\n' "$origin" >"$tmp/ex$n.src"
            : >"$tmp/ex$n.c"
            ;;
        *)
            printf '%s\n' "$line" >>"$tmp/ex$n.c"
            ;;
        esac
    done
}

# README.md: ```c ... ``` blocks containing main(.
if [ -f "$top_srcdir/README.md" ]; then
    awk -v file=README.md '
        !inblock && /^```[ \t]*c[ \t]*$/ { inblock = 1; start = NR + 1; body = ""; next }
        inblock && /^```[ \t]*$/ {
            inblock = 0
            if (body ~ /main[ \t]*\(/)
                printf "@@@ %s:%d\n%s", file, start, body
            next
        }
        inblock { body = body $0 "\n" }
    ' "$top_srcdir/README.md" >"$tmp/readme.blocks"
    split_blocks <"$tmp/readme.blocks"
else
    echo "FAIL: $top_srcdir/README.md not found"
    missing=1
fi

# man/*.3: .EX/.EE blocks in the EXAMPLES section containing main(. Request
# lines (starting with . or ') are dropped; escapes are undone, \e last so
# that an escaped backslash cannot start another escape.
for page in "$top_srcdir"/man/*.3; do
    [ -f "$page" ] || continue
    awk -v file="man/${page##*/}" '
        /^\.SH[ \t]/ {
            sec = $0
            sub(/^\.SH[ \t]+/, "", sec)
            gsub(/"/, "", sec)
            next
        }
        sec == "EXAMPLES" && /^\.EX([ \t]|$)/ { inblock = 1; start = NR + 1; body = ""; next }
        inblock && /^\.EE([ \t]|$)/ {
            inblock = 0
            if (body ~ /main[ \t]*\(/)
                printf "@@@ %s:%d\n%s", file, start, body
            next
        }
        inblock && /^[.\047]/ { next }
        inblock { body = body $0 "\n" }
    ' "$page" | sed -e 's/\\&//g' \
                    -e 's/\\-/-/g' \
                    -e "s/\\\\(aq/'/g" \
                    -e 's/\\(ga/`/g' \
                    -e 's/\\(dq/"/g' \
                    -e 's/\\(ha/^/g' \
                    -e 's/\\(ti/~/g' \
                    -e 's/\\(rs/\\/g' \
                    -e 's/\\e/\\/g' >"$tmp/man.blocks"
    split_blocks <"$tmp/man.blocks"
done

# ---------------------------------------------------------------------------
# How to link: the static archive if make built one, else through libtool.
# ---------------------------------------------------------------------------

archive=$top_builddir/libcsp/.libs/libcsp.a
la=$top_builddir/libcsp/libcsp.la
if [ -f "$archive" ]; then
    build_example() { # out src
        # shellcheck disable=SC2086 # CFLAGS and LDFLAGS are lists of words
        $CC $CFLAGS -I"$top_srcdir/libcsp" -o "$1" "$2" "$archive" $LDFLAGS -pthread
    }
elif [ -f "$la" ] && [ -x "$top_builddir/libtool" ]; then
    build_example() {
        # shellcheck disable=SC2086
        "$top_builddir/libtool" --quiet --mode=link $CC $CFLAGS -I"$top_srcdir/libcsp" \
            -o "$1" "$2" "$la" $LDFLAGS -pthread
    }
else
    echo "FAIL: no built library in $top_builddir/libcsp (run make first)"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---------------------------------------------------------------------------
# Build and run each example.
# ---------------------------------------------------------------------------

passed=0
failed=${missing:-0}
show() { sed -n '1,40s/^/    | /p' "$1"; }

cd "$tmp" || exit 1
i=1
while [ $i -le $n ]; do
    origin=$(cat "ex$i.src")
    if ! build_example "ex$i" "ex$i.c" >"ex$i.build" 2>&1; then
        failed=$((failed + 1))
        echo "FAIL: $origin: does not compile"
        show "ex$i.build"
    else
        timeout -k 5 10 "./ex$i" </dev/null >"ex$i.out" 2>"ex$i.err"
        rc=$?
        if [ $rc -eq 0 ]; then
            passed=$((passed + 1))
            echo "PASS: $origin"
        else
            failed=$((failed + 1))
            case $rc in
            124) why="did not finish within 10 s" ;;
            *) why="exited with status $rc" ;;
            esac
            echo "FAIL: $origin: $why"
            show "ex$i.err"
        fi
    fi
    i=$((i + 1))
done

if [ $n -eq 0 ]; then
    echo "FAIL: no examples found in README.md or man/*.3"
    failed=$((failed + 1))
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
