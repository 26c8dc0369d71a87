#!/bin/sh
# thumbnail_test.sh - csp-thumbnail on images this test makes with mksamples.
#
# Run by automake from the build directory with top_srcdir and top_builddir
# set; writes only into a temporary directory, removed at the end. Prints one
# line per check and "N passed, N failed"; exits 1 if any check failed.
#
# Pixel checks compare a thumbnail with a Lanczos-3 downscale of its source
# made by `mksamples compare` (its own implementation, in floating point) and
# bound the mean absolute difference per 8-bit sample. The bounds come from
# measurement on these generated pictures:
#   - lossless output (PNG, and JPEG at -q 100, where almost nothing is lost
#     to encoding): 0.5 to 2.5. Catmull-Rom is not Lanczos-3, and JPEG's
#     chroma is decoded at half resolution. A nearest-neighbour shrink of the
#     same pictures scores 4.5 to 9.5 and a box filter 2.2 to 5.5, so the
#     bound of 3 tells a proper filter from an aliasing one.
#   - JPEG at the default -q 85: 4 to 6.5, the extra being the encoder's 4:2:0
#     chroma and quantisation on a picture full of fine detail: bound 8.
#   - a wrong orientation scores about 48, a different picture about 65.
set -u

: "${top_builddir:=.}"
top_builddir=$(cd "$top_builddir" && pwd) # absolute: some checks run from other directories
thumb=$top_builddir/apps/csp-thumbnail
mk=$top_builddir/apps/samples/mksamples
for b in "$thumb" "$mk"; do
    if [ ! -x "$b" ]; then
        echo "thumbnail_test: $b is missing: build it first" >&2
        exit 99
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/thumbnail_test.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' HUP INT TERM
umask 022

passed=0
failed=0

# check DESCRIPTION COMMAND...: runs COMMAND, counts and prints the outcome.
check() {
    desc=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "ok   - $desc"
    else
        failed=$((failed + 1))
        echo "FAIL - $desc"
    fi
}

# size_is FILE W H [C]: FILE decodes to W x H (and C channels).
size_is() {
    got=$("$mk" info "$1" 2>/dev/null) || return 1
    if [ $# -eq 4 ]; then
        [ "$got" = "$2 $3 $4" ]
    else
        [ "${got% *}" = "$2 $3" ]
    fi
}

# below VALUE BOUND: VALUE < BOUND, as decimals.
below() {
    awk -v v="$1" -v b="$2" 'BEGIN { exit !(v != "" && v + 0 < b + 0) }'
}

# close_to THUMB SOURCE BOUND [ORIENT]: checks the thumbnail's pixels against
# a reference downscale of SOURCE shown with EXIF orientation ORIENT.
close_to() {
    err=$("$mk" compare "$1" "$2" "${4:-1}" 2>/dev/null)
    check "$(basename "$1") close to a Lanczos-3 reference (mean error ${err:-?} < $3)" below "$err" "$3"
}

# absent PATTERN...: no file matches any PATTERN (the shell leaves it unexpanded).
absent() {
    for p in "$@"; do
        [ -e "$p" ] && return 1
    done
    return 0
}

# ------------------------------------------------------------------------
# The command line
# ------------------------------------------------------------------------
check "--help exits 0 and shows usage" sh -c '"$1" --help | grep -q "^Usage: csp-thumbnail"' sh "$thumb"
"$thumb" --bogus >/dev/null 2>&1
check "an unknown option exits 2" [ $? -eq 2 ]
"$thumb" -s 0x10 x.jpg >/dev/null 2>&1
check "a bad -s exits 2" [ $? -eq 2 ]
"$thumb" >/dev/null 2>&1
check "no operands exits 2" [ $? -eq 2 ]

# ------------------------------------------------------------------------
# Sizes: fit the box, keep the aspect, round to nearest, never enlarge
# ------------------------------------------------------------------------
d=$tmp/sizes
mkdir "$d"
"$mk" -s 1 image "$d/land.jpg" 4000x3000
"$mk" -s 2 image "$d/port.jpg" 3000x4000
"$mk" -s 3 image "$d/small.jpg" 100x50
"$mk" -s 4 image "$d/wide.jpg" 1000x333
"$mk" -s 5 image "$d/tall.png" 333x1000
"$mk" -s 6 image "$d/exact.png" 128x128
"$mk" -s 7 image "$d/thin.png" 2000x10
"$thumb" "$d"/*.jpg "$d"/*.png
check "seven images: exit status 0" [ $? -eq 0 ]
check "4000x3000 -> 128x96" size_is "$d/land.thumb.jpg" 128 96
check "3000x4000 (portrait) -> 96x128" size_is "$d/port.thumb.jpg" 96 128
check "100x50 is not enlarged" size_is "$d/small.thumb.jpg" 100 50
check "1000x333 -> 128x43 (42.6 rounds up)" size_is "$d/wide.thumb.jpg" 128 43
check "333x1000 -> 43x128" size_is "$d/tall.thumb.png" 43 128
check "128x128 stays 128x128" size_is "$d/exact.thumb.png" 128 128
check "2000x10 -> 128x1 (never 0)" size_is "$d/thin.thumb.png" 128 1

"$thumb" -f -s 200x100 "$d/land.jpg" "$d/port.jpg"
check "-s 200x100: 4000x3000 -> 133x100" size_is "$d/land.thumb.jpg" 133 100
check "-s 200x100: 3000x4000 -> 75x100" size_is "$d/port.thumb.jpg" 75 100
"$thumb" -f -s 64 "$d/land.jpg"
check "-s 64 means 64x64: 4000x3000 -> 64x48" size_is "$d/land.thumb.jpg" 64 48

# ------------------------------------------------------------------------
# Pixels: close to a reference downscale
# ------------------------------------------------------------------------
d=$tmp/pixels
mkdir "$d"
"$mk" -s 11 image "$d/big.jpg" 4000x3000
"$mk" -s 12 image "$d/mid.jpg" 1000x333
"$mk" -s 13 image "$d/vga.jpg" 640x480
"$mk" -s 14 image "$d/gray.jpg" 800x600 gray
"$mk" -s 15 image "$d/gray.png" 640x480 gray
"$mk" -s 16 image "$d/alpha.png" 1200x900 alpha
"$mk" -s 17 image "$d/grayalpha.png" 300x200 gray alpha
"$mk" -s 18 image "$d/pic.bmp" 640x480
"$mk" -s 19 image "$d/tga.tga" 640x480
"$mk" -s 20 image "$d/anim.gif" 320x240 frames=2
"$thumb" -q 100 "$d"/*
check "ten formats and kinds: exit status 0" [ $? -eq 0 ]
close_to "$d/big.thumb.jpg" "$d/big.jpg" 3
close_to "$d/mid.thumb.jpg" "$d/mid.jpg" 3
close_to "$d/vga.thumb.jpg" "$d/vga.jpg" 3
close_to "$d/gray.thumb.jpg" "$d/gray.jpg" 3
close_to "$d/gray.thumb.png" "$d/gray.png" 3
close_to "$d/alpha.thumb.png" "$d/alpha.png" 3
close_to "$d/grayalpha.thumb.png" "$d/grayalpha.png" 3
close_to "$d/pic.thumb.png" "$d/pic.bmp" 3
close_to "$d/tga.thumb.png" "$d/tga.tga" 3
close_to "$d/anim.thumb.png" "$d/anim.gif" 3
check "grey PNG stays one channel" size_is "$d/gray.thumb.png" 128 96 1
check "grey+alpha PNG keeps its alpha (2 channels)" size_is "$d/grayalpha.thumb.png" 128 85 2
check "RGBA PNG keeps its alpha (4 channels)" size_is "$d/alpha.thumb.png" 128 96 4
check "BMP, TGA, GIF give PNG thumbnails" absent "$d/pic.thumb.jpg" "$d/tga.thumb.jpg" "$d/anim.thumb.jpg"
"$thumb" -f "$d/big.jpg" "$d/vga.jpg"
close_to "$d/big.thumb.jpg" "$d/big.jpg" 8
close_to "$d/vga.thumb.jpg" "$d/vga.jpg" 8

# The same thumbnails whatever the concurrency.
mkdir "$d/j1" "$d/j4"
"$thumb" -j1 -o "$d/j1" "$d"/*.jpg "$d"/*.png
"$thumb" -j4 -o "$d/j4" "$d"/*.jpg "$d"/*.png
check "-j1 and -j4 write identical files" sh -c 'for f in "$1"/*; do cmp -s "$f" "$2/${f##*/}" || exit 1; done' sh "$d/j1" "$d/j4"

# ------------------------------------------------------------------------
# EXIF orientation, all eight values
# ------------------------------------------------------------------------
d=$tmp/exif
mkdir "$d"
for o in 1 2 3 4 5 6 7 8; do
    "$mk" -s $((30 + o)) image "$d/o$o.jpg" 400x200 exif=$o
done
"$thumb" -q 100 "$d"/o*.jpg
check "a 400x200 JPEG with orientation 6 -> 64x128" size_is "$d/o6.thumb.jpg" 64 128
for o in 1 2 3 4; do
    check "orientation $o: 128x64" size_is "$d/o$o.thumb.jpg" 128 64
done
for o in 5 7 8; do
    check "orientation $o: 64x128" size_is "$d/o$o.thumb.jpg" 64 128
done
for o in 1 2 3 4 5 6 7 8; do
    close_to "$d/o$o.thumb.jpg" "$d/o$o.jpg" 3 $o
done

# ------------------------------------------------------------------------
# Broken inputs: one line each, no output, the others still made
# ------------------------------------------------------------------------
d=$tmp/broken
mkdir "$d"
"$mk" -s 41 image "$d/good.jpg" 800x600
"$mk" -s 42 image "$d/good.png" 300x300 alpha
"$mk" -s 43 image "$d/truncated.jpg" 1600x1200 truncate=50
"$mk" -s 44 image "$d/truncated.png" 800x600 truncate=50
"$mk" -s 45 image "$d/shortbmp.bmp" 640x480 truncate=60
"$mk" -s 46 image "$d/shortgif.gif" 320x240 truncate=50
"$mk" -s 47 image "$d/cut.jpg" 640x480 truncate=99
: >"$d/empty.jpg"
echo "just some text" >"$d/notimage.jpg"
printf '\377\330\377\340 not really a JPEG' >"$d/fakeheader.jpg"
mkdir "$d/adir.jpg"
mkfifo "$d/fifo.jpg"
bad="truncated.jpg truncated.png shortbmp.bmp shortgif.gif cut.jpg empty.jpg notimage.jpg fakeheader.jpg fifo.jpg"
(cd "$d" && "$thumb" -j3 good.jpg good.png $bad missing.jpg adir.jpg >"$tmp/out" 2>"$tmp/err")
check "broken inputs: exit status 1" [ $? -eq 1 ]
check "good inputs among broken ones still made" size_is "$d/good.thumb.jpg" 128 96
check "...and the PNG too" size_is "$d/good.thumb.png" 128 128 4
for f in $bad missing.jpg adir.jpg; do
    check "$f: exactly one 'csp-thumbnail: $f: reason' line" \
        [ "$(grep -c "^csp-thumbnail: $f: ." "$tmp/err")" -eq 1 ]
done
check "nothing else on stderr" [ "$(wc -l <"$tmp/err")" -eq 11 ]
check "nothing on stdout" [ ! -s "$tmp/out" ]
check "only the good inputs have thumbnails" \
    [ "$(ls "$d" | grep '\.thumb\.' | tr '\n' ' ')" = "good.thumb.jpg good.thumb.png " ]
check "no temporary files left" absent "$d"/.*.thumb.*
echo "    (stderr was:)"
sed 's/^/    /' "$tmp/err"

# ------------------------------------------------------------------------
# Up to date: skip thumbnails newer than their source unless -f
# ------------------------------------------------------------------------
d=$tmp/newer
mkdir "$d"
"$mk" -s 51 image "$d/a.jpg" 640x480
"$thumb" "$d/a.jpg"
touch -t 202001010000 "$d/a.jpg"
touch -t 202101010000 "$d/a.thumb.jpg"
touch -t 202201010000 "$d/stamp"
"$thumb" "$d/a.jpg"
check "a thumbnail newer than its source is left alone" [ ! "$d/a.thumb.jpg" -nt "$d/stamp" ]
"$thumb" -f "$d/a.jpg"
check "-f remakes it" [ "$d/a.thumb.jpg" -nt "$d/stamp" ]
touch -t 201901010000 "$d/a.thumb.jpg"
"$thumb" "$d/a.jpg"
check "a thumbnail older than its source is remade" [ "$d/a.thumb.jpg" -nt "$d/stamp" ]
check "thumbnail mode follows the umask (0644)" \
    [ "$(ls -l "$d/a.thumb.jpg" | cut -c1-10)" = "-rw-r--r--" ]

# ------------------------------------------------------------------------
# -r, -o, and thumbnails never taken as inputs
# ------------------------------------------------------------------------
d=$tmp/tree
mkdir -p "$d/in/sub/deeper" "$d/in/other"
"$mk" -s 61 image "$d/in/top.jpg" 640x480
"$mk" -s 62 image "$d/in/sub/mid.png" 400x300 alpha
"$mk" -s 63 image "$d/in/sub/deeper/low.JPG" 800x600
"$mk" -s 64 image "$d/in/other/top.jpg" 500x500
echo "notes" >"$d/in/sub/README.txt"
"$thumb" "$d/in/sub" >/dev/null 2>&1
check "a directory without -r is an error" [ $? -eq 1 ]
"$thumb" -r -o "$d/out" "$d/in"
check "-o DIR -r: exit status 0 (non-images in the tree ignored)" [ $? -eq 0 ]
check "-o DIR -r: paths kept from the operand's name down" size_is "$d/out/in/sub/deeper/low.thumb.jpg" 128 96
check "-o DIR -r: same names in two directories do not clash" \
    sh -c '[ -f "$1/out/in/top.thumb.jpg" ] && [ -f "$1/out/in/other/top.thumb.jpg" ]' sh "$d"
(cd "$d/in" && "$thumb" -r -o ../dot .)
check "-o DIR -r .: paths below ." size_is "$d/dot/sub/mid.thumb.png" 128 96 4
check "-o DIR: nothing written beside the inputs" [ "$(find "$d/in" -name '*.thumb.*' | wc -l)" -eq 0 ]
"$thumb" -o "$d/new/dir" "$d/in/sub/mid.png"
check "-o DIR with a file: DIR made with its parents, thumbnail in it" \
    size_is "$d/new/dir/mid.thumb.png" 128 96 4
"$thumb" -r "$d/in"
check "-r: exit status 0" [ $? -eq 0 ]
check "-r: files at every depth" size_is "$d/in/sub/deeper/low.thumb.jpg" 128 96
check "-r: PNG below" size_is "$d/in/sub/mid.thumb.png" 128 96 4
check "-r: four thumbnails" [ "$(find "$d/in" -name '*.thumb.*' | wc -l)" -eq 4 ]
"$thumb" -r -v "$d/in" 2>"$tmp/err"
check "-r again: existing thumbnails are not inputs" [ "$(find "$d/in" -name '*.thumb.*' | wc -l)" -eq 4 ]
check "-v prints done/total" grep -q "^4/4 " "$tmp/err"
check "-v notes thumbnails that are up to date" grep -q "(up to date)" "$tmp/err"

# Two inputs, one thumbnail name: the first (in name order) keeps it.
d=$tmp/clash
mkdir "$d"
"$mk" -s 65 image "$d/x.bmp" 300x200
"$mk" -s 66 image "$d/x.png" 300x200
"$mk" -s 67 image "$d/x.jpg" 300x200
"$thumb" -r "$d" 2>"$tmp/err"
check "x.bmp and x.png: exit status 1" [ $? -eq 1 ]
check "x.bmp and x.png: the second is reported" \
    grep -q "^csp-thumbnail: $d/x.png: $d/x.thumb.png would also be the thumbnail of $d/x.bmp\$" "$tmp/err"
close_to "$d/x.thumb.png" "$d/x.bmp" 3
check "x.jpg beside them is not a clash" size_is "$d/x.thumb.jpg" 128 85

# ------------------------------------------------------------------------
# Interrupted: the images in hand are finished, nothing partial is left
# ------------------------------------------------------------------------
# SIGTERM, not SIGINT: a shell without job control starts background
# commands with SIGINT ignored. 120 links to one 2000x1500 PNG, one worker:
# several seconds of work, stopped after the first thumbnail or so.
d=$tmp/interrupt
mkdir "$d"
"$mk" -s 71 image "$d/p0.png" 2000x1500
i=1
while [ $i -lt 120 ]; do
    ln "$d/p0.png" "$d/p$i.png"
    i=$((i + 1))
done
"$thumb" -j1 "$d"/*.png 2>"$tmp/err" &
pid=$!
# Once a thumbnail exists the pipeline is running (signals are handled).
i=0
while [ $i -lt 60 ] && ! ls "$d" | grep -q '\.thumb\.'; do
    sleep 1
    i=$((i + 1))
done
kill -TERM $pid
wait $pid
check "SIGTERM: exit status 143" [ $? -eq 143 ]
check "SIGTERM: says it was interrupted" grep -q "^csp-thumbnail: interrupted: [0-9]* of 120 done" "$tmp/err"
check "SIGTERM: no temporary files left" absent "$d"/.*.thumb.*
check "SIGTERM: every thumbnail written is whole" \
    sh -c 'for f in "$2"/*.thumb.png; do [ -e "$f" ] || continue; "$1" info "$f" >/dev/null || exit 1; done' \
    sh "$mk" "$d"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
