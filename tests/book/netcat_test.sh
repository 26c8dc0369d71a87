#!/bin/sh
# netcat_test.sh - netcat1, netcat2 and netcat3 (gopl.io/ch8/netcat1..3)
# against the book's servers, clock2 and reverb1/reverb2 on free loopback
# ports, with -d to make reverb's delays short.
#
# netcat1 copies the connection to stdout and exits 0 at the server's
# end-of-file, 1 with a log line when it cannot connect. netcat2 sends
# stdin (held open through a FIFO) and prints the replies, and exits when
# stdin ends even though replies are still due. netcat3, given two lines
# and end-of-file, half-closes its side, prints every reply, logs "done"
# (Go's log format) and exits 0 by itself.

. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/net_lib.sh"

need netcat1 netcat2 netcat3 clock2 reverb1 reverb2

tab=$(printf '\t')
has_line() { grep -qx "$2" "$tmp/$1.out"; }

# ---- netcat1 ----
if serve clock clock2; then
    start n1 netcat1 -p "$port"
    if within 100 has_lines n1 1 && grep -qx '[0-2][0-9]:[0-5][0-9]:[0-6][0-9]' "$tmp/n1.out"; then
        pass "netcat1 copies the connection to stdout"
    else
        fail "netcat1 copies the connection to stdout"
    fi
    stops clock TERM
    if within 50 ended n1 && [ "$(rc n1)" = 0 ]; then
        pass "netcat1 exits 0 at the server's end-of-file"
    else
        fail "netcat1 exits 0 at the server's end-of-file (status $(rc n1))"
    fi
    # Nothing listens on that port now.
    start n1x netcat1 -p "$port"
    if within 50 ended n1x && [ "$(rc n1x)" = 1 ] && grep -q 'dial tcp .*:'"$port" "$tmp/n1x.err"; then
        pass "netcat1 exits 1 with a log line when it cannot connect"
    else
        fail "netcat1 exits 1 when it cannot connect (status $(rc n1x)): $(cat "$tmp/n1x.err")"
    fi
else
    fail "clock2 starts listening"
fi

# ---- netcat2 ----
if serve fast reverb1 -d 100; then
    mkfifo "$tmp/n2.in"
    start n2 netcat2 -p "$port"
    exec 3>"$tmp/n2.in"
    printf 'Hello\n' >&3
    if within 100 has_line n2 "$tab hello" && running n2 &&
       [ "$(cat "$tmp/n2.out")" = "$(printf '\t HELLO\n\t Hello\n\t hello')" ]; then
        pass "netcat2 sends stdin and prints the replies while stdin is open"
    else
        fail "netcat2 sends stdin and prints the replies while stdin is open"
        cat "$tmp/n2.out"
    fi
    exec 3>&-
    if within 50 ended n2 && [ "$(rc n2)" = 0 ]; then pass "netcat2 exits 0 when stdin ends"; else fail "netcat2 exits 0 when stdin ends (status $(rc n2))"; fi
    stops fast TERM
else
    fail "reverb1 -d 100 starts listening"
fi
if serve slow reverb1 -d 5000; then
    printf 'Hello\n' >"$tmp/n2b.in"
    start n2b netcat2 -p "$port"
    # The replies take 10 s; netcat2 must not wait for them.
    if within 40 ended n2b && [ "$(rc n2b)" = 0 ] && ! has_line n2b "$tab hello"; then
        pass "netcat2 exits at the end of stdin without waiting for the replies, as in the book"
    else
        fail "netcat2 exits at the end of stdin without waiting (status $(rc n2b))"
    fi
    stops slow TERM
else
    fail "reverb1 -d 5000 starts listening"
fi

# ---- netcat3 ----
if serve echo reverb2 -d 100; then
    printf 'Hello\nWorld\n' >"$tmp/n3.in"
    start n3 netcat3 -p "$port"
    if within 100 ended n3 && [ "$(rc n3)" = 0 ]; then
        pass "netcat3 exits 0 by itself after stdin ends"
    else
        fail "netcat3 exits 0 by itself after stdin ends (status $(rc n3))"
    fi
    sort "$tmp/n3.out" >"$tmp/n3.sorted"
    printf '\t HELLO\n\t Hello\n\t WORLD\n\t World\n\t hello\n\t world\n' | sort >"$tmp/n3.want"
    if cmp -s "$tmp/n3.sorted" "$tmp/n3.want"; then
        pass "netcat3 half-closes and still prints every reply"
    else
        fail "netcat3 half-closes and still prints every reply"
        cat "$tmp/n3.out"
    fi
    if grep -qx '[0-9]\{4\}/[0-9][0-9]/[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9] done' "$tmp/n3.err"; then
        pass "netcat3 logs \"done\""
    else
        fail "netcat3 logs \"done\": $(cat "$tmp/n3.err")"
    fi
    if stops echo TERM; then pass "reverb2 exits 0 on SIGTERM"; else fail "reverb2 exits 0 on SIGTERM (status $(rc echo))"; fi
else
    fail "reverb2 -d 100 starts listening"
fi

finish
