// bench.cpp - the micro-benchmarks with Boost.Fiber (M:N user-space fibers).
//
//   g++ -std=c++17 -O2 bench.cpp -o fiber_bench -lboost_fiber -lboost_context -pthread
//   fiber_bench B1      runs row B1 and prints its RESULT (and EXTRA) lines
//   fiber_bench all     runs every row (B7's RSS is then not its own)
//   fiber_bench list    names the rows
//
// Every fiber runs on the main thread under Boost.Fiber's default scheduler
// (round_robin, one thread): channel hand-offs are user-space context
// switches, and there is no parallelism. Channels: unbuffered_channel, and
// buffered_channel whose capacity must be a power of two (1024, 64, and
// 131072 for B4; a buffered_channel of capacity N holds at most N-1 values).
//
// B5: Boost.Fiber has no select. The consumer reads the four producer
// channels through the fan-in idiom of the Boost.Fiber documentation
// ("when_any" over a shared channel): one forwarder fiber per producer
// channel pops from it and pushes (producer, value) into one shared
// unbuffered channel that the consumer pops. That is one extra hop per item.
//
// Output lines, as from every implementation (see bench_util.h):
//   RESULT <row> fiber <value> <unit>
//   EXTRA <row> fiber <key> <value>
//   FAIL <row> fiber <message>          on stderr, then exit status 1
#include <boost/fiber/all.hpp>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace fibers = boost::fibers;
using fibers::channel_op_status;
using clk = std::chrono::steady_clock;

static const char *const IMPL = "fiber";

static void result(const char *row, double value, const char *unit)
{
    std::printf("RESULT %s %s %.6g %s\n", row, IMPL, value, unit);
    std::fflush(stdout);
}

static void extra(const char *row, const char *key, double value)
{
    std::printf("EXTRA %s %s %s %.6g\n", row, IMPL, key, value);
    std::fflush(stdout);
}

template <typename... Args>
static void check(const char *row, bool ok, const char *fmt, Args... args)
{
    if (ok)
        return;
    std::fflush(stdout);
    std::fprintf(stderr, "FAIL %s %s ", row, IMPL);
    std::fprintf(stderr, fmt, args...);
    std::fputc('\n', stderr);
    std::exit(1);
}

static double ns_since(clk::time_point t0)
{
    return (double)std::chrono::duration_cast<std::chrono::nanoseconds>(clk::now() - t0).count();
}

static double peak_rss_mib()
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

static int thread_count()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.compare(0, 8, "Threads:") == 0)
            return std::atoi(line.c_str() + 8);
    return -1;
}

// The same xorshift64* sequence as bench_util.h, so B8's durations match.
static uint64_t bench_rand(uint64_t &s)
{
    uint64_t x = s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

// B1 ping-pong: two fibers (main and an echo), two unbuffered channels,
// 200,000 round trips.
static void b1()
{
    const int n = 200000;
    fibers::unbuffered_channel<int> ping, pong;
    auto t0 = clk::now();
    fibers::fiber echo([&] {
        int v;
        while (ping.pop(v) == channel_op_status::success)
            if (pong.push(v + 1) != channel_op_status::success)
                break;
    });
    for (int i = 0; i < n; i++) {
        ping.push(i);
        int r = -1;
        check("B1", pong.pop(r) == channel_op_status::success && r == i + 1,
              "round trip %d came back as %d", i, r);
    }
    double ns = ns_since(t0);
    ping.close();
    echo.join();
    result("B1", ns / n, "ns/roundtrip");
}

// B2 buffered SPSC: 5,000,000 ints through a channel of capacity 1024.
static void b2()
{
    const int n = 5000000;
    fibers::buffered_channel<int> ch(1024);
    auto t0 = clk::now();
    fibers::fiber prod([&] {
        for (int i = 0; i < n; i++)
            check("B2", ch.push(i) == channel_op_status::success, "push %d failed", i);
        ch.close();
    });
    long long sum = 0, cnt = 0;
    int v;
    while (ch.pop(v) == channel_op_status::success) {
        check("B2", v == cnt, "item %lld arrived as %d (FIFO broken)", cnt, v);
        sum += v;
        cnt++;
    }
    double ns = ns_since(t0);
    prod.join();
    check("B2", cnt == n && sum == (long long)n * (n - 1) / 2, "got %lld items, sum %lld", cnt, sum);
    result("B2", ns / n, "ns/item");
}

// B3 contended MPMC: 4 producers, 4 consumers, capacity 64, 2,000,000 items.
static void b3()
{
    const int np = 4, nc = 4, n = 2000000;
    fibers::buffered_channel<int> ch(64);
    long long sums[nc] = { 0 }, counts[nc] = { 0 };
    auto t0 = clk::now();
    std::vector<fibers::fiber> cons, prod;
    for (int c = 0; c < nc; c++)
        cons.emplace_back([&, c] {
            int v;
            while (ch.pop(v) == channel_op_status::success) {
                sums[c] += v;
                counts[c]++;
            }
        });
    for (int p = 0; p < np; p++)
        prod.emplace_back([&, p] {
            int per = n / np;
            for (int i = 0; i < per; i++)
                check("B3", ch.push(p * per + i) == channel_op_status::success, "push failed");
        });
    for (auto &f : prod)
        f.join();
    ch.close();
    for (auto &f : cons)
        f.join();
    double ns = ns_since(t0);
    long long sum = 0, cnt = 0;
    for (int c = 0; c < nc; c++) {
        sum += sums[c];
        cnt += counts[c];
    }
    check("B3", cnt == n && sum == (long long)n * (n - 1) / 2, "got %lld items, sum %lld", cnt, sum);
    result("B3", ns / n, "ns/item");
}

// B4 spawn and join: 100,000 fibers each push once on a buffered channel of
// capacity 131072; main pops all 100,000 values.
static void b4()
{
    const int n = 100000;
    fibers::buffered_channel<int> ch(131072);
    auto t0 = clk::now();
    for (int i = 0; i < n; i++)
        fibers::fiber([&ch, i] { ch.push(i); }).detach();
    long long sum = 0;
    for (int i = 0; i < n; i++) {
        int v;
        check("B4", ch.pop(v) == channel_op_status::success, "pop failed");
        sum += v;
    }
    double ns = ns_since(t0);
    check("B4", sum == (long long)n * (n - 1) / 2, "sum %lld", sum);
    // Let the detached fibers finish before the channel goes out of scope.
    for (int i = 0; i < 4; i++)
        boost::this_fiber::yield();
    result("B4", ns / n, "ns/goroutine");
}

// B5 select fan-in, without select: see the comment at the top.
static void b5()
{
    const int per = 250000, np = 4;
    std::vector<fibers::unbuffered_channel<int>> chs(np);
    fibers::unbuffered_channel<std::pair<int, int>> merged;
    int open = np;
    auto t0 = clk::now();
    std::vector<fibers::fiber> fs;
    for (int p = 0; p < np; p++) {
        fs.emplace_back([&, p] {
            for (int i = 0; i < per; i++)
                check("B5", chs[p].push(i) == channel_op_status::success, "push failed");
            chs[p].close();
        });
        fs.emplace_back([&, p] {
            int v;
            while (chs[p].pop(v) == channel_op_status::success)
                merged.push(std::make_pair(p, v));
            if (--open == 0)
                merged.close();
        });
    }
    int next[np] = { 0 }, cnt = 0;
    std::pair<int, int> kv;
    while (merged.pop(kv) == channel_op_status::success) {
        check("B5", kv.second == next[kv.first], "producer %d: got %d, want %d", kv.first, kv.second,
              next[kv.first]);
        next[kv.first]++;
        cnt++;
    }
    double ns = ns_since(t0);
    for (auto &f : fs)
        f.join();
    check("B5", cnt == np * per, "got %d items", cnt);
    result("B5", ns / (np * per), "ns/item");
}

// B6 daisy chain: 1,000 fibers linked by unbuffered channels; 1,000 values.
static void b6()
{
    const int g = 1000, nv = 1000;
    std::vector<fibers::unbuffered_channel<int>> chs(g + 1);
    std::vector<fibers::fiber> fs;
    for (int i = 0; i < g; i++)
        fs.emplace_back([&chs, i] {
            int v;
            while (chs[i].pop(v) == channel_op_status::success)
                chs[i + 1].push(v + 1);
            chs[i + 1].close();
        });
    auto t0 = clk::now();
    fs.emplace_back([&chs] {
        for (int v = 0; v < nv; v++)
            chs[0].push(v);
        chs[0].close();
    });
    int v, cnt = 0;
    while (chs[g].pop(v) == channel_op_status::success) {
        check("B6", v == cnt + g, "value %d came out as %d", cnt, v);
        cnt++;
    }
    double ns = ns_since(t0);
    for (auto &f : fs)
        f.join();
    check("B6", cnt == nv, "got %d values", cnt);
    result("B6", ns / ((double)g * nv), "ns/hop");
}

// B7 many blocked: 10,000 fibers block popping one channel; main closes it
// and joins them all.
static void b7()
{
    const int n = 10000;
    fibers::unbuffered_channel<int> ch;
    int started = 0, closed_seen = 0;
    auto t0 = clk::now();
    std::vector<fibers::fiber> fs;
    fs.reserve(n);
    for (int i = 0; i < n; i++)
        fs.emplace_back([&] {
            started++;
            int v;
            if (ch.pop(v) == channel_op_status::closed)
                closed_seen++;
        });
    while (started < n)
        boost::this_fiber::yield();
    auto tc = clk::now();
    ch.close();
    for (auto &f : fs)
        f.join();
    double ns = ns_since(t0), nsc = ns_since(tc);
    check("B7", closed_seen == n, "%d of %d saw the close", closed_seen, n);
    result("B7", ns / 1e6, "ms");
    extra("B7", "rss_mib", peak_rss_mib());
    extra("B7", "close_to_done_ms", nsc / 1e6);
}

// B8 timers: 10,000 fibers each sleep_for 1-50 ms (the same pseudo-random
// durations as every implementation), all joined.
static void b8()
{
    const int n = 10000;
    std::atomic<bool> stop{ false };
    std::atomic<int> peak{ thread_count() };
    std::thread sampler([&] {
        while (!stop.load()) {
            int t = thread_count() - 1; // not this sampler
            if (t > peak.load())
                peak.store(t);
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    uint64_t rs = 0x9E3779B97F4A7C15ULL;
    int early = 0;
    auto t0 = clk::now();
    std::vector<fibers::fiber> fs;
    fs.reserve(n);
    for (int i = 0; i < n; i++) {
        auto d = std::chrono::milliseconds(1 + bench_rand(rs) % 50);
        auto due = clk::now() + d;
        fs.emplace_back([&early, d, due] {
            boost::this_fiber::sleep_for(d);
            if (clk::now() < due)
                early++;
        });
    }
    for (auto &f : fs)
        f.join();
    double ns = ns_since(t0);
    stop.store(true);
    sampler.join();
    check("B8", early == 0, "%d timers fired early", early);
    result("B8", ns / 1e6, "ms");
    extra("B8", "threads", (double)peak.load());
}

int main(int argc, char **argv)
{
    static const std::pair<const char *, void (*)()> rows[] = {
        { "B1", b1 }, { "B2", b2 }, { "B3", b3 }, { "B4", b4 },
        { "B5", b5 }, { "B6", b6 }, { "B7", b7 }, { "B8", b8 },
    };
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s B1..B8 | all | list\n", argv[0]);
        return 2;
    }
    if (std::strcmp(argv[1], "list") == 0) {
        for (auto &r : rows)
            std::printf("%s\n", r.first);
        return 0;
    }
    bool all = std::strcmp(argv[1], "all") == 0, ran = false;
    for (auto &r : rows)
        if (all || std::strcmp(argv[1], r.first) == 0) {
            r.second();
            ran = true;
        }
    if (!ran) {
        std::fprintf(stderr, "%s: no row %s here\n", argv[0], argv[1]);
        return 2;
    }
    return 0;
}
