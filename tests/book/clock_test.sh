#!/bin/sh
# clock_test.sh - clock1 and clock2 (gopl.io/ch8/clock1, clock2), with
# netcat1 as the client.
#
# Both send "HH:MM:SS" lines once a second to each client. clock1 serves
# one client at a time: a second client gets nothing until the first has
# gone. clock2 serves clients at once: two clients see the same second. A
# client that goes away ends its handler (clock2's connection is closed,
# which /proc shows) and the server serves on; SIGTERM and SIGINT stop the
# servers with status 0. Servers listen on free loopback ports.

. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/net_lib.sh"

need clock1 clock2 netcat1

timefmt() { grep -qvx '[0-2][0-9]:[0-5][0-9]:[0-6][0-9]' "$tmp/$1.out" && return 1; has_lines "$1" 1; }
sockets() { ls -l "/proc/$(pid "$1")/fd" 2>/dev/null | grep -c 'socket:'; }
sockets_are() { [ "$(sockets "$1")" -eq "$2" ]; }

# ---- clock1: one client at a time ----
if serve s1 clock1; then
    start a netcat1 -p "$port"
    if within 100 timefmt a; then pass "clock1 sends HH:MM:SS lines"; else fail "clock1 sends HH:MM:SS lines"; fi
    start b netcat1 -p "$port"
    n=$(lines a)
    # While a gets two more lines (two seconds), b must get none.
    if within 100 has_lines a $((n + 2)) && [ "$(lines b)" -eq 0 ]; then
        pass "clock1 serves one client at a time"
    else
        fail "clock1 serves one client at a time (a: $(lines a) lines, b: $(lines b))"
    fi
    kill "$(pid a)"
    if within 100 has_lines b 2 && timefmt b && running s1; then
        pass "clock1 serves the next client once the first disconnects"
    else
        fail "clock1 serves the next client once the first disconnects"
    fi
    if stops s1 TERM; then pass "clock1 exits 0 on SIGTERM with a client connected"; else fail "clock1 exits 0 on SIGTERM (status $(rc s1))"; fi
    if within 50 ended b && [ "$(rc b)" = 0 ]; then
        pass "netcat1 exits 0 when the server closes the connection"
    else
        fail "netcat1 exits 0 when the server closes the connection (status $(rc b))"
    fi
else
    fail "clock1 starts listening"
    cat "$tmp/s1.err"
fi

# ---- clock2: clients at once ----
if serve s2 clock2; then
    start c netcat1 -p "$port"
    start d netcat1 -p "$port"
    if within 100 has_lines c 3 && within 100 has_lines d 3 && timefmt c && timefmt d &&
       grep -qFxf "$tmp/c.out" "$tmp/d.out"; then
        pass "clock2 serves two clients at once (both got the same second)"
    else
        fail "clock2 serves two clients at once"
        paste "$tmp/c.out" "$tmp/d.out"
    fi
    if within 50 sockets_are s2 3; then
        kill "$(pid c)"
        n=$(lines d)
        # The next write to c fails; its handler closes c: one socket fewer.
        if within 100 sockets_are s2 2 && within 50 has_lines d $((n + 2)) && running s2; then
            pass "a client that disconnects ends its clock2 handler; the others are served on"
        else
            fail "a client that disconnects ends its clock2 handler ($(sockets s2) sockets open, d: $n -> $(lines d) lines, server running: $(running s2 && echo yes))"
        fi
    else
        fail "clock2 holds the listener and two connections ($(sockets s2) sockets open)"
    fi
    start e netcat1 -p "$port"
    if within 100 has_lines e 1 && timefmt e; then pass "clock2 accepts a new client afterwards"; else fail "clock2 accepts a new client afterwards"; fi
    if stops s2 INT; then pass "clock2 exits 0 on SIGINT with clients connected"; else fail "clock2 exits 0 on SIGINT (status $(rc s2))"; fi
    if within 50 ended d && within 50 ended e && [ "$(rc d)$(rc e)" = 00 ]; then
        pass "its clients see end-of-file and exit 0"
    else
        fail "its clients see end-of-file and exit 0 (status $(rc d) $(rc e))"
    fi
else
    fail "clock2 starts listening"
    cat "$tmp/s2.err"
fi

finish
