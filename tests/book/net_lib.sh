# net_lib.sh - helpers for the network programs' tests (clock, netcat,
# reverb), sourced after lib.sh.
# Each program runs in the background under a small subshell that records
# its pid in $tmp/NAME.pid and, when it ends, its exit status in
# $tmp/NAME.rc; stdout and stderr go to $tmp/NAME.out and $tmp/NAME.err,
# stdin comes from $tmp/NAME.in (a file or a FIFO) or /dev/null.

# within TENTHS COMMAND...: poll COMMAND every 0.05 s for at most TENTHS
# tenths of a second; succeeds as soon as COMMAND does.
within() {
    _t=$(($1 * 2))
    shift
    until "$@"; do
        [ "$_t" -gt 0 ] || return 1
        sleep 0.05
        _t=$((_t - 1))
    done
}

# start NAME PROGRAM ARG...: start $book/PROGRAM in the background.
start() {
    _name=$1
    _prog=$2
    shift 2
    _in=/dev/null
    [ -e "$tmp/$_name.in" ] && _in=$tmp/$_name.in
    rm -f "$tmp/$_name.pid" "$tmp/$_name.rc"
    ("$book/$_prog" "$@" >"$tmp/$_name.out" 2>"$tmp/$_name.err" <"$_in" &
     echo $! >"$tmp/$_name.pid"
     wait $!
     echo $? >"$tmp/$_name.rc") 2>/dev/null &
    within 50 test -s "$tmp/$_name.pid"
    started="$started $_name"
}
pid() { cat "$tmp/$1.pid"; }
ended() { test -s "$tmp/$1.rc"; }
running() { ! ended "$1" && kill -0 "$(pid "$1")" 2>/dev/null; }
rc() { cat "$tmp/$1.rc" 2>/dev/null; }
lines() { cat "$tmp/$1.out" 2>/dev/null | wc -l | tr -d " "; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

# serve NAME PROGRAM ARG...: start a server on a free port, wait until it
# listens and set $port; false if it did not within 10 s.
serve() {
    port=
    start "$@" -p 0 || return 1
    within 100 grep -q '^listening on ' "$tmp/$1.err" || return 1
    port=$(sed -n 's/^listening on .*:\([0-9][0-9]*\)$/\1/p' "$tmp/$1.err")
    [ -n "$port" ]
}

# stops NAME SIGNAL: send SIGNAL; true if NAME then exits 0 within 5 s.
stops() {
    kill -"$2" "$(pid "$1")" 2>/dev/null
    within 50 ended "$1" && [ "$(rc "$1")" = 0 ]
}

# Kill whatever is still running at exit, then remove $tmp.
started=
cleanup() {
    for _n in $started; do
        running "$_n" && kill -9 "$(pid "$_n")" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
