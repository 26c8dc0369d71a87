// bench.go - the micro-benchmarks in Go, the reference libcsp copies.
//
//	go build -o go_bench bench.go   (standard library only: builds offline)
//	go_bench B1                     runs row B1 and prints its RESULT (and EXTRA) lines
//	go_bench all                    runs every row (B7's RSS is then not its own)
//	go_bench list                   names the rows
//
// Output lines, as from every implementation (see bench_util.h):
//
//	RESULT <row> go <value> <unit>
//	EXTRA <row> go <key> <value>
//	FAIL <row> go <message>          on stderr, then exit status 1
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const impl = "go"

func result(row string, value float64, unit string) {
	fmt.Printf("RESULT %s %s %.6g %s\n", row, impl, value, unit)
}

func extra(row, key string, value float64) {
	fmt.Printf("EXTRA %s %s %s %.6g\n", row, impl, key, value)
}

func fail(row, format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "FAIL %s %s %s\n", row, impl, fmt.Sprintf(format, args...))
	os.Exit(1)
}

func check(row string, ok bool, format string, args ...interface{}) {
	if !ok {
		fail(row, format, args...)
	}
}

func nsPer(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }

// peakRSSMiB is getrusage(RUSAGE_SELF).ru_maxrss (KiB on Linux) in MiB.
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return float64(ru.Maxrss) / 1024
}

// threadCount is the Threads: line of /proc/self/status, or -1.
func threadCount() int {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "Threads:") {
			n, err := strconv.Atoi(strings.TrimSpace(line[len("Threads:"):]))
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// The same xorshift64* sequence as bench_util.h, so B8's durations match.
const benchSeed uint64 = 0x9E3779B97F4A7C15

func benchRand(s *uint64) uint64 {
	x := *s
	x ^= x >> 12
	x ^= x << 25
	x ^= x >> 27
	*s = x
	return x * 0x2545F4914F6CDD1D
}

// B1 ping-pong: two goroutines, two unbuffered int channels, 200,000 round trips.
func b1() {
	const n = 200000
	ping, pong := make(chan int), make(chan int)
	done := make(chan struct{})
	t0 := time.Now()
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(done)
	}()
	for i := 0; i < n; i++ {
		ping <- i
		r := <-pong
		check("B1", r == i+1, "round trip %d came back as %d", i, r)
	}
	d := time.Since(t0)
	close(ping)
	<-done
	result("B1", nsPer(d, n), "ns/roundtrip")
}

// B2 buffered SPSC: 5,000,000 ints through a channel of capacity 1024.
func b2() {
	const n = 5000000
	ch := make(chan int, 1024)
	t0 := time.Now()
	go func() {
		for i := 0; i < n; i++ {
			ch <- i
		}
		close(ch)
	}()
	var sum, cnt int64
	for v := range ch {
		check("B2", int64(v) == cnt, "item %d arrived as %d (FIFO broken)", cnt, v)
		sum += int64(v)
		cnt++
	}
	d := time.Since(t0)
	check("B2", cnt == n && sum == int64(n)*(n-1)/2, "got %d items, sum %d", cnt, sum)
	result("B2", nsPer(d, n), "ns/item")
}

// B3 contended MPMC: 4 producers, 4 consumers, capacity 64, 2,000,000 items.
func b3() {
	const p, c, n = 4, 4, 2000000
	ch := make(chan int, 64)
	var pwg, cwg sync.WaitGroup
	sums, counts := make([]int64, c), make([]int64, c)
	t0 := time.Now()
	cwg.Add(c)
	for k := 0; k < c; k++ {
		go func(k int) {
			var s, m int64
			for v := range ch {
				s += int64(v)
				m++
			}
			sums[k], counts[k] = s, m
			cwg.Done()
		}(k)
	}
	pwg.Add(p)
	for k := 0; k < p; k++ {
		go func(k int) {
			per := n / p
			for i := 0; i < per; i++ {
				ch <- k*per + i
			}
			pwg.Done()
		}(k)
	}
	pwg.Wait()
	close(ch)
	cwg.Wait()
	d := time.Since(t0)
	var sum, cnt int64
	for k := 0; k < c; k++ {
		sum += sums[k]
		cnt += counts[k]
	}
	check("B3", cnt == n && sum == int64(n)*(n-1)/2, "got %d items, sum %d", cnt, sum)
	result("B3", nsPer(d, n), "ns/item")
}

// B4 spawn and join: 100,000 goroutines each send once on a channel of
// capacity 100,000; main receives all the values.
func b4() {
	const n = 100000
	ch := make(chan int, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		go func(i int) { ch <- i }(i)
	}
	var sum int64
	for i := 0; i < n; i++ {
		sum += int64(<-ch)
	}
	d := time.Since(t0)
	check("B4", sum == int64(n)*(n-1)/2, "sum %d", sum)
	result("B4", nsPer(d, n), "ns/goroutine")
}

// B5 select fan-in: 4 producers on 4 unbuffered channels, 250,000 items each,
// one consumer with a 4-way select.
func b5() {
	const per = 250000
	chs := [4]chan int{make(chan int), make(chan int), make(chan int), make(chan int)}
	t0 := time.Now()
	for k := 0; k < 4; k++ {
		go func(c chan int) {
			for i := 0; i < per; i++ {
				c <- i
			}
			close(c)
		}(chs[k])
	}
	var next [4]int
	var cnt int
	c0, c1, c2, c3 := chs[0], chs[1], chs[2], chs[3]
	for open := 4; open > 0; {
		var k, v int
		var ok bool
		select {
		case v, ok = <-c0:
			k = 0
			if !ok {
				c0 = nil
			}
		case v, ok = <-c1:
			k = 1
			if !ok {
				c1 = nil
			}
		case v, ok = <-c2:
			k = 2
			if !ok {
				c2 = nil
			}
		case v, ok = <-c3:
			k = 3
			if !ok {
				c3 = nil
			}
		}
		if !ok {
			open--
			continue
		}
		check("B5", v == next[k], "producer %d: got %d, want %d", k, v, next[k])
		next[k]++
		cnt++
	}
	d := time.Since(t0)
	check("B5", cnt == 4*per, "got %d items", cnt)
	result("B5", nsPer(d, 4*per), "ns/item")
}

// B6 daisy chain: 1,000 goroutines linked by unbuffered channels; 1,000 values.
func b6() {
	const g, nv = 1000, 1000
	chs := make([]chan int, g+1)
	for i := range chs {
		chs[i] = make(chan int)
	}
	for i := 0; i < g; i++ {
		go func(in, out chan int) {
			for v := range in {
				out <- v + 1
			}
			close(out)
		}(chs[i], chs[i+1])
	}
	t0 := time.Now()
	go func() {
		for v := 0; v < nv; v++ {
			chs[0] <- v
		}
		close(chs[0])
	}()
	cnt := 0
	for v := range chs[g] {
		check("B6", v == cnt+g, "value %d came out as %d", cnt, v)
		cnt++
	}
	d := time.Since(t0)
	check("B6", cnt == nv, "got %d values", cnt)
	result("B6", float64(d.Nanoseconds())/float64(g*nv), "ns/hop")
}

// B7 many blocked: 10,000 goroutines block receiving on one channel; main
// closes it and waits for all.
func b7() {
	const n = 10000
	ch := make(chan int)
	var wg sync.WaitGroup
	var started, closedSeen int64
	t0 := time.Now()
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			atomic.AddInt64(&started, 1)
			if v, ok := <-ch; !ok && v == 0 {
				atomic.AddInt64(&closedSeen, 1)
			}
			wg.Done()
		}()
	}
	for atomic.LoadInt64(&started) < n {
		runtime.Gosched()
	}
	tc := time.Now()
	close(ch)
	wg.Wait()
	d := time.Since(t0)
	dc := time.Since(tc)
	check("B7", closedSeen == n, "%d of %d saw the close", closedSeen, n)
	result("B7", float64(d.Nanoseconds())/1e6, "ms")
	extra("B7", "rss_mib", peakRSSMiB())
	extra("B7", "close_to_done_ms", float64(dc.Nanoseconds())/1e6)
}

// B8 timers: 10,000 concurrent time.After of 1-50 ms, all awaited by main.
func b8() {
	const n = 10000
	threadcreate := pprof.Lookup("threadcreate")
	var peak int64 = int64(threadCount())
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // samples /proc/self/status every millisecond
		for {
			if t := int64(threadCount()); t > atomic.LoadInt64(&peak) {
				atomic.StoreInt64(&peak, t)
			}
			select {
			case <-stop:
				close(sampled)
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	rs := benchSeed
	chs := make([]<-chan time.Time, n)
	due := make([]time.Time, n)
	t0 := time.Now()
	for i := 0; i < n; i++ {
		d := time.Duration(1+benchRand(&rs)%50) * time.Millisecond
		due[i] = time.Now().Add(d)
		chs[i] = time.After(d)
	}
	early := 0
	for i := 0; i < n; i++ {
		if fired := <-chs[i]; fired.Before(due[i]) {
			early++
		}
	}
	d := time.Since(t0)
	close(stop)
	<-sampled
	if t := int64(threadCount()); t > peak {
		peak = t
	}
	check("B8", early == 0, "%d timers fired early", early)
	result("B8", float64(d.Nanoseconds())/1e6, "ms")
	extra("B8", "threads", float64(peak))
	extra("B8", "threadcreate", float64(threadcreate.Count()))
}

func main() {
	rows := []struct {
		id string
		fn func()
	}{{"B1", b1}, {"B2", b2}, {"B3", b3}, {"B4", b4}, {"B5", b5}, {"B6", b6}, {"B7", b7}, {"B8", b8}}
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s B1..B8 | all | list\n", os.Args[0])
		os.Exit(2)
	}
	arg := os.Args[1]
	if arg == "list" {
		for _, r := range rows {
			fmt.Println(r.id)
		}
		return
	}
	ran := false
	for _, r := range rows {
		if arg == "all" || arg == r.id {
			r.fn()
			ran = true
		}
	}
	if !ran {
		fmt.Fprintf(os.Stderr, "%s: no row %s here\n", os.Args[0], arg)
		os.Exit(2)
	}
}
