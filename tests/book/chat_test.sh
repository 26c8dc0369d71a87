#!/bin/sh
# chat_test.sh - chat (gopl.io/ch8/chat, with exercise 8.15) on a free
# loopback port, with tests/book/chat_client as its clients.
#
# Clients a, b and c join: each is told "You are ADDR" first, hears the
# later ones arrive (not itself: the book announces an arrival before the
# newcomer enters) and gets its own lines back. All three send a burst of
# lines at once: every client gets all of them in the same order, each
# sender's in the order sent. b leaves; c sends half a line and hangs up:
# the others get the partial line (as bufio.Scanner delivers it) and each
# departure, and the server closes those connections and serves on.
# Any two clients agree on the order of the lines they both got.
#
# Then a client stops reading (SIGSTOP) while a flood of 1000-byte lines
# goes to three readers that keep reading (chat_client -f, which stays a
# few lines ahead of its slowest reader): the readers get every line in
# order and never stall, the server disconnects the slow client (and logs
# it), and the slow client, let go on, finds it got a gapless prefix of
# the flood and then the end of its connection. SIGTERM, with a client
# connected, and SIGINT stop the server with status 0.

. "$(dirname "$0")/lib.sh"

. "$(dirname "$0")/net_lib.sh"

need chat
# A client that has died must fail a check, not kill this shell as it
# writes to the client's FIFO (a handler, unlike SIG_IGN, is not inherited).
trap 'echo "$0: a client is gone (SIGPIPE)" >&2' PIPE
chat_client=../../tests/book/chat_client # start runs $book/PROGRAM
if [ ! -x "$book/$chat_client" ]; then
    fail "tests/book/chat_client is built"
    finish
fi

has_line() { grep -qxF -- "$2" "$tmp/$1.out"; }
addr() { sed -n 's/^You are //p' "$tmp/$1.out" 2>/dev/null; }
# lineno NAME LINE: the number of LINE in NAME's output, empty if absent.
lineno() { grep -nxF -- "$2" "$tmp/$1.out" | head -n 1 | cut -d: -f1; }
# before NAME LINE1 LINE2: NAME got LINE1, then later LINE2.
before() {
    _a=$(lineno "$1" "$2")
    _b=$(lineno "$1" "$3")
    [ -n "$_a" ] && [ -n "$_b" ] && [ "$_a" -lt "$_b" ]
}
# entered NAME: NAME knows its address and has had its own "hello" back.
entered() { _a=$(addr "$1") && [ -n "$_a" ] && has_line "$1" "$_a: hello"; }
# say FD TEXT: send the line TEXT through the client on FD.
say() { printf '%s\n' "$2" >&"$1"; }
# client NAME ARG...: start chat_client ARG... as NAME, in a subshell
# without the FIFOs the shell holds open for the other clients (else their
# end-of-file would never come).
client() {
    _name=$1
    shift
    (exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; start "$_name" "$chat_client" "$@")
    started="$started $_name" # for the cleanup at exit
}
# join NAME FD [ARG...]: start client NAME on the FIFO $tmp/NAME.in, held
# open on FD; it says hello; true once it has entered the chat.
join() {
    _name=$1
    _fd=$2
    shift 2
    mkfifo "$tmp/$_name.in"
    client "$_name" -p "$port" "$@"
    eval "exec $_fd>\"\$tmp/\$_name.in\""
    say "$_fd" hello
    within 100 entered "$_name"
}
# same_order X Y: the lines both X and Y got come in the same order to each.
same_order() {
    grep -xFf "$tmp/$2.out" "$tmp/$1.out" >"$tmp/$1-$2.common"
    grep -xFf "$tmp/$1.out" "$tmp/$2.out" >"$tmp/$2-$1.common"
    [ -s "$tmp/$1-$2.common" ] && cmp -s "$tmp/$1-$2.common" "$tmp/$2-$1.common"
}
sockets() { ls -l "/proc/$(pid "$1")/fd" 2>/dev/null | grep -c 'socket:'; }
sockets_are() { [ "$(sockets "$1")" -eq "$2" ]; }
bursts() { grep -cF ': burst ' "$tmp/$1.out"; }
has_bursts() { [ "$(bursts "$1")" -ge "$2" ]; }

if ! serve chat chat; then
    fail "chat starts listening"
    cat "$tmp/chat.err"
    finish
fi

# ---- joining, talking, leaving ----
if join a 3 && join b 4 && join c 5; then
    pass "three clients join the chat and hear their own lines back"
else
    fail "three clients join the chat and hear their own lines back"
fi
A=$(addr a)
B=$(addr b)
C=$(addr c)
if head -n 1 "$tmp/a.out" | grep -qx 'You are 127\.0\.0\.1:[0-9]*' &&
   [ "$(head -n 1 "$tmp/b.out")" = "You are $B" ] && [ "$(head -n 1 "$tmp/c.out")" = "You are $C" ]; then
    pass "each client is told \"You are ADDR\" first"
else
    fail "each client is told \"You are ADDR\" first"
fi
if before a "$B has arrived" "$C has arrived" && before a "$B: hello" "$C: hello" &&
   has_line b "$C has arrived" && ! has_line a "$A has arrived"; then
    pass "earlier clients hear each arrival and hello, in order"
else
    fail "earlier clients hear each arrival and hello, in order"
fi

i=1
while [ $i -le 20 ]; do
    printf '%s\n' "burst $i" >&3
    printf '%s\n' "burst $i" >&4
    printf '%s\n' "burst $i" >&5
    i=$((i + 1))
done
if within 100 has_bursts a 60 && within 100 has_bursts b 60 && within 100 has_bursts c 60; then
    pass "a burst of 20 lines from each of three clients reaches all three"
else
    fail "a burst of 20 lines from each of three clients reaches all three ($(bursts a), $(bursts b), $(bursts c) of 60)"
fi
for n in a b c; do grep -F ': burst ' "$tmp/$n.out" >"$tmp/$n.bursts"; done
in_order() { grep -F "$1: burst " "$tmp/a.bursts" | awk '$NF != NR { bad = 1 } END { exit bad || NR != 20 }'; }
if cmp -s "$tmp/a.bursts" "$tmp/b.bursts" && cmp -s "$tmp/a.bursts" "$tmp/c.bursts" &&
   in_order "$A" && in_order "$B" && in_order "$C"; then
    pass "every client gets the burst in the same order, each sender's lines as sent"
else
    fail "every client gets the burst in the same order, each sender's lines as sent"
fi

exec 4>&- # b hangs up
if within 100 has_line a "$B has left" && within 100 has_line c "$B has left" &&
   within 50 ended b && [ "$(rc b)" = 0 ]; then
    pass "a client leaves: the others hear \"ADDR has left\""
else
    fail "a client leaves: the others hear \"ADDR has left\""
fi

printf 'half a li' >&5 # c hangs up mid-line
exec 5>&-
if within 100 has_line a "$C has left" && before a "$C: half a li" "$C has left"; then
    pass "a client hangs up mid-line: the partial line is broadcast, then its departure"
else
    fail "a client hangs up mid-line: the partial line is broadcast, then its departure"
fi
# The listener and a's connection are left; then d's.
if within 50 sockets_are chat 2; then
    pass "the server closes the connections of departed clients"
else
    fail "the server closes the connections of departed clients ($(sockets chat) sockets, want 2)"
fi
if join d 6 && say 6 "still here" && within 100 has_line a "$(addr d): still here" &&
   has_line a "$(addr d) has arrived" && running chat; then
    pass "the server serves on"
else
    fail "the server serves on"
fi
if same_order a b && same_order a c && same_order b c && same_order a d; then
    pass "any two clients get the lines they both got in the same order"
else
    fail "any two clients get the lines they both got in the same order"
fi
exec 3>&- 6>&-
within 50 ended a
within 50 ended d

# ---- a client that stops reading ----
if join slow 7 -r 4096; then
    S=$(addr slow)
    kill -STOP "$(pid slow)"
    client flood -p "$port" -f "$S has left" -c 3 -s 1000 -w 32 -n 50000
    if within 300 ended flood && [ "$(rc flood)" = 0 ]; then
        pass "readers get a flood in full and in order while another client stops reading: $(cat "$tmp/flood.out")"
    else
        fail "readers get a flood in full and in order while another client stops reading (status $(rc flood)): $(cat "$tmp/flood.err")"
    fi
    if grep -q "disconnecting $S: [0-9]* lines behind" "$tmp/chat.err"; then
        pass "the server disconnects the client that stopped reading, and logs it"
    else
        fail "the server disconnects the client that stopped reading, and logs it"
    fi
    kill -CONT "$(pid slow)"
    if within 100 ended slow && [ "$(rc slow)" = 0 ] &&
       grep -q 'the server ended the connection' "$tmp/slow.err"; then
        pass "the slow client, let go on, finds its connection ended"
    else
        fail "the slow client, let go on, finds its connection ended (status $(rc slow))"
    fi
    # Its flood lines: flood 0, 1, 2, ... with no gap, then nothing more
    # (the last may be cut short by the disconnect).
    got=$(grep -cF ': flood ' "$tmp/slow.out")
    if [ "$got" -gt 0 ] &&
       grep -F ': flood ' "$tmp/slow.out" | awk '$3 + 0 != NR - 1 { bad = 1 } END { exit bad }'; then
        pass "the slow client got a gapless prefix of the flood ($got lines), nothing silently missed"
    else
        fail "the slow client got a gapless prefix of the flood ($got lines)"
    fi
    exec 7>&-
else
    fail "a client joins to stop reading"
fi

# ---- stopping ----
if join e 8 && stops chat TERM; then
    pass "chat exits 0 on SIGTERM with a client connected"
else
    fail "chat exits 0 on SIGTERM with a client connected (status $(rc chat))"
fi
if within 50 ended e && [ "$(rc e)" = 0 ]; then
    pass "the client sees the end of its connection"
else
    fail "the client sees the end of its connection (status $(rc e))"
fi
exec 8>&-
if grep -q 'Sanitizer\|runtime error' "$tmp/chat.err"; then
    fail "chat's log has no sanitizer reports"
fi
if [ "$failed" -gt 0 ]; then
    echo "chat's log:"
    cat "$tmp/chat.err"
fi
if serve chat2 chat && stops chat2 INT; then
    pass "chat exits 0 on SIGINT"
else
    fail "chat exits 0 on SIGINT (status $(rc chat2))"
fi

finish
