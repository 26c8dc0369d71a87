#!/bin/sh
# reverb_test.sh - reverb1 and reverb2 (gopl.io/ch8/reverb1, reverb2), with
# netcat3 and netcat2 as clients, on free loopback ports.
#
# Each line sent comes back as "\t LINE-UPPER", then after the delay (-d,
# short here) "\t Line", then "\t line", as Go's fmt.Fprintln(c, "\t", s)
# prints them. reverb1 echoes one line after another: two lines sent at once
# come back as six lines in order, taking at least four delays. reverb2
# echoes each line in its own goroutine: the second shout arrives before
# the first echo's last part. Both stop with status 0 on SIGINT or SIGTERM,
# even with a client connected, and reject a bad -d.

. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/net_lib.sh"

need reverb1 reverb2 netcat2 netcat3

now_ms() { echo $(($(date +%s%N) / 1000000)); }
lineno() { grep -nx "$(printf '\t %s' "$2")" "$tmp/$1.out" | head -n 1 | cut -d: -f1; }
printf 'Hello\nWorld\n' >"$tmp/in"

# ---- reverb1: in sequence ----
delay=300
if serve r1 reverb1 -d "$delay"; then
    cp "$tmp/in" "$tmp/c1.in"
    t0=$(now_ms)
    start c1 netcat3 -p "$port"
    if within 100 ended c1 && [ "$(rc c1)" = 0 ]; then
        elapsed=$(($(now_ms) - t0))
        if [ "$(cat "$tmp/c1.out")" = "$(printf '\t HELLO\n\t Hello\n\t hello\n\t WORLD\n\t World\n\t world')" ]; then
            pass "reverb1 echoes loud, as sent, quiet, one line after the other"
        else
            fail "reverb1 echoes loud, as sent, quiet, one line after the other"
            cat "$tmp/c1.out"
        fi
        if [ "$elapsed" -ge $((4 * delay)) ]; then
            pass "reverb1 waits -d between the parts ($elapsed ms >= $((4 * delay)) ms)"
        else
            fail "reverb1 waits -d between the parts ($elapsed ms < $((4 * delay)) ms)"
        fi
    else
        fail "netcat3 to reverb1 ends by itself (status $(rc c1))"
    fi
    # A client still connected, with stdin open: SIGINT still stops reverb1.
    mkfifo "$tmp/c2.in"
    start c2 netcat2 -p "$port"
    exec 3>"$tmp/c2.in"
    printf 'Hi\n' >&3
    if within 100 has_lines c2 1; then
        if stops r1 INT; then pass "reverb1 exits 0 on SIGINT with a client connected"; else fail "reverb1 exits 0 on SIGINT with a client connected (status $(rc r1))"; fi
    else
        fail "reverb1 answers a second client"
    fi
    exec 3>&-
    within 50 ended c2
else
    fail "reverb1 starts listening"
fi

# ---- reverb2: overlapping ----
delay=500
if serve r2 reverb2 -d "$delay"; then
    cp "$tmp/in" "$tmp/c3.in"
    start c3 netcat3 -p "$port"
    if within 100 ended c3 && [ "$(rc c3)" = 0 ]; then
        sort "$tmp/c3.out" >"$tmp/c3.sorted"
        printf '\t HELLO\n\t Hello\n\t WORLD\n\t World\n\t hello\n\t world\n' | sort >"$tmp/c3.want"
        if cmp -s "$tmp/c3.sorted" "$tmp/c3.want"; then
            pass "reverb2 echoes every part of both lines"
        else
            fail "reverb2 echoes every part of both lines"
            cat "$tmp/c3.out"
        fi
        a=$(lineno c3 WORLD)
        b=$(lineno c3 hello)
        if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; then
            pass "reverb2 overlaps the shouts: the second shout comes before the first echo ends"
        else
            fail "reverb2 overlaps the shouts (WORLD at line $a, hello at line $b)"
            cat "$tmp/c3.out"
        fi
    else
        fail "netcat3 to reverb2 ends by itself (status $(rc c3))"
    fi
    mkfifo "$tmp/c4.in"
    start c4 netcat2 -p "$port"
    exec 3>"$tmp/c4.in"
    printf 'Hi\n' >&3
    if within 100 has_lines c4 1; then
        if stops r2 TERM; then pass "reverb2 exits 0 on SIGTERM with a client connected"; else fail "reverb2 exits 0 on SIGTERM with a client connected (status $(rc r2))"; fi
    else
        fail "reverb2 answers a second client"
    fi
    exec 3>&-
    within 50 ended c4
else
    fail "reverb2 starts listening"
fi

# ---- flags ----
start bad reverb2 -d soon
if within 50 ended bad && [ "$(rc bad)" = 2 ] && grep -q '^usage: ' "$tmp/bad.err"; then
    pass "a bad -d is a usage error (status 2)"
else
    fail "a bad -d is a usage error (status $(rc bad))"
fi

finish
