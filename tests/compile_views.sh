#!/bin/sh
# compile_views.sh - the compiler must reject the misuses of directional
# channel views that Go's compiler rejects, and accept the correct uses.
#
# Each file in tests/compile/ is one case:
#   ok_*.c    must compile;
#   fail_*.c  must fail to compile, and every error must be the _Generic
#             selection finding no association for the view's type (so that
#             a typo in the snippet cannot pass for the expected rejection).
#             A line "/* expect-error: REGEX */" replaces that pattern.
# The snippets are only checked (-fsyntax-only), so no library is needed.
#
# make check exports CC, CFLAGS and top_srcdir; run by hand, the defaults
# are cc and the tree this script is in.

: "${CC:=cc}"
: "${top_srcdir:=$(dirname "$0")/..}"
top_srcdir=$(cd "$top_srcdir" && pwd) || exit 1
LC_ALL=C
export LC_ALL

generic_error='_Generic|selector|generic association'
tmp=$(mktemp -d "${TMPDIR:-/tmp}/csp-views.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' 0
trap 'exit 1' 1 2 15

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() {
    failed=$((failed + 1))
    echo "FAIL: $1"
    sed 's/^/    | /' "$tmp/out"
}

for f in "$top_srcdir"/tests/compile/ok_*.c "$top_srcdir"/tests/compile/fail_*.c; do
    [ -f "$f" ] || continue
    name=$(basename "$f")
    # shellcheck disable=SC2086 # CFLAGS is a list of words
    if $CC $CFLAGS -I"$top_srcdir/libcsp" -fsyntax-only "$f" >"$tmp/out" 2>&1; then
        compiled=yes
    else
        compiled=no
    fi
    case $name in
    ok_*)
        if [ $compiled = yes ]; then
            pass "$name: accepted"
        else
            fail "$name: rejected, but the use is correct"
        fi
        ;;
    fail_*)
        want=$(sed -n 's|^/\* expect-error: \(.*\) \*/$|\1|p' "$f")
        [ -n "$want" ] || want=$generic_error
        grep 'error:' "$tmp/out" >"$tmp/errors"
        if [ $compiled = yes ]; then
            fail "$name: accepted, but the compiler must reject it"
        elif [ ! -s "$tmp/errors" ]; then
            fail "$name: rejected, but with no error message"
        elif grep -Ev "$want" "$tmp/errors" >/dev/null; then
            fail "$name: rejected for another reason than /$want/"
        else
            pass "$name: rejected ($(head -n 1 "$tmp/errors" | sed 's/.*error: //'))"
        fi
        ;;
    esac
done

if [ $((passed + failed)) -eq 0 ]; then
    echo "FAIL: no cases found in $top_srcdir/tests/compile"
    failed=1
fi
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
