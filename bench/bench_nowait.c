/* bench_nowait: the figures of issue 14 (no message waits for a probe),
 * each printed beside its goal. The tests' own DNS server and a loopback
 * STARTTLS peer stand in for the Internet.
 *   burst   64 threads deciding the same uncached domain at once: probes
 *           made, and how long after the first answer the others had it,
 *           beside the scheduler's part of that (as many threads woken by
 *           one call with nothing else to do) and the same with 8 threads;
 *   warm    warm decisions through route_run (journal on), 8 threads:
 *           messages a second with every thread routing flat out, and
 *           the OnArrival-equivalent time p50/p99 both then and at a
 *           steady 2,000 messages a second (8 threads on 2 cores flat out
 *           measure the scheduler's time slices as much as the router);
 *   day     a compressed day: 1,000 domains in use, cache lifetimes of
 *           seconds, messages at random with refresh ahead on: the share
 *           of messages after a domain's first that waited for a probe,
 *           and background probes per domain per lifetime;
 *   memory  a sink-like process (8 routing threads, refresh ahead on) from
 *           10,000 to 300,000 messages: the allocator's bytes in use (what
 *           the program holds) beside private memory (what it also keeps
 *           for reuse).
 * Usage: bench_nowait [burst|warm|day|memory]... (default: all four). */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnsd.h"
#include "engine.h"
#include "peer.h"
#include "plat.h"
#include "route.h"
#include "store.h"
#include "trtest.h"

typedef struct {
    char root[512];
    char db[PLAT_PATH_MAX];
    char pickup[PLAT_PATH_MAX];
    engine *eng;
    dnsd *dns;
    peer *peer;
    int n_domains;
} world;

static void domain_name(char *buf, size_t len, int i) { snprintf(buf, len, "d%d.bench.test", i); }

static int set(store *st, const char *key, const char *value)
{
    if (store_setting_set(st, key, value) == STORE_OK)
        return 0;
    fprintf(stderr, "bench_nowait: %s: %s\n", key, store_error(st));
    return -1;
}

/* n_domains domains, each with its own MX host on 127.0.0.1; the peer
 * answers each SMTP reply after reply_delay_ms; cache lifetime ttl_s for
 * TLS answers. */
static int world_open(world *w, const char *tag, int n_domains, unsigned reply_delay_ms,
                      const char *ttl_s, int refresh_ahead)
{
    char err[256], name[64], mx[80], port[16];
    store *st;
    memset(w, 0, sizeof *w);
    w->n_domains = n_domains;
    if (trtest_temp_dir(tag, w->root, sizeof w->root) != 0 ||
        trtest_join(w->db, sizeof w->db, w->root, "bench.db") != 0 ||
        trtest_join(w->pickup, sizeof w->pickup, w->root, "Pickup") != 0 ||
        plat_mkdir(w->pickup) != 0 || !(w->dns = dnsd_start()) ||
        !(w->peer = peer_start(PEER_STARTTLS, NULL)))
        return -1;
    peer_set_reply_delay(w->peer, reply_delay_ms);
    for (int i = 0; i < n_domains; i++) {
        domain_name(name, sizeof name, i);
        snprintf(mx, sizeof mx, "mx.%s", name);
        dnsd_add_mx(w->dns, name, 10, mx);
        dnsd_add_a(w->dns, mx, 127, 0, 0, 1);
    }
    snprintf(port, sizeof port, "%u", peer_port(w->peer));
    if (store_open(w->db, &st, err, sizeof err) != STORE_OK) {
        fprintf(stderr, "bench_nowait: %s\n", err);
        return -1;
    }
    int rc = set(st, "dns_servers", dnsd_server(w->dns)) | set(st, "probe_port", port) |
             set(st, "ttl_starttls_s", ttl_s) | set(st, "refresh_max_per_minute", "100000") |
             (store_rule_add(st, "Plain", w->pickup, 1, NULL) == STORE_OK ? 0 : -1);
    store_close(st);
    if (rc != 0 || engine_open(w->db, &w->eng, err, sizeof err) != 0) {
        fprintf(stderr, "bench_nowait: %s\n", rc ? "cannot set up the database" : err);
        return -1;
    }
    if (refresh_ahead)
        engine_set_refresh_ahead(w->eng, 1);
    return 0;
}

static void world_close(world *w)
{
    engine_close(w->eng);
    peer_stop(w->peer);
    dnsd_stop(w->dns);
    trtest_remove_tree(w->root);
}

static const char body[] = "From: s@corp.example\r\nTo: r@x.example\r\nSubject: bench\r\n"
                           "\r\nHello.\r\n";

/* One message of one recipient at domain i; its route_run time in us. */
static uint64_t route_to(world *w, int i, int *errors)
{
    char addr[80];
    snprintf(addr, sizeof addr, "u@d%d.bench.test", i);
    const char *rcpts[] = { addr };
    route_message m = { "bench", "s@corp.example", rcpts, 1, 1, (const unsigned char *)body,
                        sizeof body - 1 };
    route_result r;
    uint64_t start = plat_now_us();
    if (route_run(w->eng, &m, &r) != 0 || r.error[0] || r.decisions[0].reason != DECIDE_TLS_OK)
        (*errors)++;
    uint64_t took = plat_now_us() - start;
    route_result_free(&r);
    return took;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The p-th percentile of n sorted values. */
static uint64_t pct(const uint64_t *sorted, size_t n, double p)
{
    if (n == 0)
        return 0;
    size_t k = (size_t)(p / 100.0 * (double)n + 0.999999);
    return sorted[k == 0 ? 0 : k - 1 < n ? k - 1 : n - 1];
}

static uint64_t probes_made(engine *e)
{
    stats_figures f;
    engine_figures(e, &f);
    uint64_t n = 0;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        n += f.probes[i];
    return n;
}

static double cpu_now(void) { return (double)clock() / CLOCKS_PER_SEC; }

/* ---- burst ----------------------------------------------------------------- */

#define BURST_THREADS 64
#define BURST_FEW_THREADS 8 /* for comparison: fewer threads on the same cores */
#define BURST_ROUNDS 20
#define BURST_REPLY_DELAY_MS 20
#define BURST_WAIT_MS 20000

/* One round: n threads let go at once through a gate; each records when
 * it had its answer, then waits at the exit (released once all have one)
 * so that the threads done early spend no time ending while the others
 * still wait: a sink's threads go on routing, not exiting. */
typedef struct {
    world *w;             /* NULL: the scheduler's part alone */
    plat_mutex *lock;
    plat_cond *go;
    plat_event *landing;  /* the scheduler's part: what the threads wait for */
    plat_event *leave;    /* the exit */
    int n;
    int open;             /* the gate */
    int arrived;
    int next;
    atomic_int answered;
    char domain[64];
    uint64_t done_us[BURST_THREADS];
} burst;

/* One decision's probe step, as route.c's settle takes it (w set), or a
 * wait for the landing event alone (w NULL), once the gate opens. */
static void burst_main(void *arg)
{
    burst *b = arg;
    plat_mutex_lock(b->lock);
    int me = b->next++;
    b->arrived++;
    plat_cond_broadcast(b->go);
    while (!b->open)
        plat_cond_wait_ms(b->go, b->lock, 100);
    plat_mutex_unlock(b->lock);
    if (b->w) {
        probe_result r;
        if (!engine_probe_cached(b->w->eng, b->domain, &r))
            engine_probe_one(b->w->eng, b->domain, plat_now_ms() + BURST_WAIT_MS, &r);
    } else {
        plat_event_wait_ms(b->landing, BURST_WAIT_MS);
    }
    b->done_us[me] = plat_now_us();
    atomic_fetch_add(&b->answered, 1);
    plat_event_wait_ms(b->leave, BURST_WAIT_MS);
}

/* Runs one round of b->n threads. For the scheduler's part, the landing
 * event is set after the threads had time to block on it, and its time is
 * *landed_us. Returns the gate's opening time, or 0 when threads could
 * not start. */
static uint64_t burst_round(burst *b, uint64_t *landed_us)
{
    plat_thread *t[BURST_THREADS];
    b->open = b->arrived = b->next = 0;
    atomic_store(&b->answered, 0);
    b->leave = plat_event_new();
    b->landing = b->w ? NULL : plat_event_new();
    int started = 0;
    while (started < b->n && (t[started] = plat_thread_start(burst_main, b)) != NULL)
        started++;
    uint64_t open_us = 0;
    plat_mutex_lock(b->lock);
    while (started == b->n && b->arrived < b->n)
        plat_cond_wait_ms(b->go, b->lock, 100);
    open_us = plat_now_us();
    b->open = 1;
    plat_cond_broadcast(b->go);
    plat_mutex_unlock(b->lock);
    if (!b->w) {
        plat_sleep_ms(BURST_REPLY_DELAY_MS); /* every thread blocked by then */
        *landed_us = plat_now_us();
        plat_event_set(b->landing);
    }
    while (atomic_load(&b->answered) < started)
        plat_sleep_ms(1);
    plat_event_set(b->leave);
    for (int i = 0; i < started; i++)
        plat_thread_join(t[i]);
    plat_event_free(b->leave);
    plat_event_free(b->landing);
    return started == b->n ? open_us : 0;
}

typedef struct {
    uint64_t *extra;      /* each waiter's time past the first answer, sorted */
    size_t n_extra;
    uint64_t answer_sum_us;
} burst_waits;

/* BURST_ROUNDS rounds of n threads: through w's engine, each round a new
 * domain (from first_domain on), or (w NULL) the scheduler's part alone.
 * 0, or -1 when threads could not start. */
static int burst_measure(world *w, int n, int first_domain, burst_waits *out)
{
    burst b;
    memset(&b, 0, sizeof b);
    memset(out, 0, sizeof *out);
    b.w = w;
    b.n = n;
    b.lock = plat_mutex_new();
    b.go = plat_cond_new();
    out->extra = malloc(BURST_ROUNDS * BURST_THREADS * sizeof *out->extra);
    int rc = 0;
    for (int round = 0; round < BURST_ROUNDS && rc == 0; round++) {
        domain_name(b.domain, sizeof b.domain, first_domain + round);
        uint64_t landed_us = 0, open_us = burst_round(&b, &landed_us);
        if (!open_us) {
            fprintf(stderr, "bench_nowait: cannot start %d threads\n", n);
            rc = -1;
            break;
        }
        /* Through the engine, the first answer is the leader's own, at
         * the probe's end; the joiners had theirs after it. */
        uint64_t first = UINT64_MAX;
        for (int i = 0; i < n; i++)
            if (b.done_us[i] < first)
                first = b.done_us[i];
        if (!w)
            first = landed_us;
        out->answer_sum_us += first - open_us;
        int skipped = 0;
        for (int i = 0; i < n; i++)
            if (w && b.done_us[i] == first && !skipped)
                skipped = 1;
            else
                out->extra[out->n_extra++] = b.done_us[i] - first;
    }
    qsort(out->extra, out->n_extra, sizeof *out->extra, cmp_u64);
    plat_cond_free(b.go);
    plat_mutex_free(b.lock);
    return rc;
}

static void print_waits(const char *label, const burst_waits *m)
{
    printf("  %s: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", label,
           pct(m->extra, m->n_extra, 50) / 1000.0, pct(m->extra, m->n_extra, 99) / 1000.0,
           m->n_extra ? m->extra[m->n_extra - 1] / 1000.0 : 0.0);
}

/* Ours: the joiners' wait less the scheduler's part, percentile by
 * percentile (never below 0). */
static double ours_ms(const burst_waits *joiners, const burst_waits *sched, double p)
{
    uint64_t a = pct(joiners->extra, joiners->n_extra, p);
    uint64_t b = pct(sched->extra, sched->n_extra, p);
    return a > b ? (double)(a - b) / 1000.0 : 0.0;
}

static void bench_burst(void)
{
    world w;
    if (world_open(&w, "nowaitburst", 2 * BURST_ROUNDS, BURST_REPLY_DELAY_MS, "86400", 0) != 0)
        return;
    printf("burst: %d threads deciding one uncached domain at once, %d rounds, peer replying "
           "after %d ms\n",
           BURST_THREADS, BURST_ROUNDS, BURST_REPLY_DELAY_MS);
    burst_waits many = { 0 }, few = { 0 }, sched_many = { 0 }, sched_few = { 0 };
    if (burst_measure(&w, BURST_THREADS, 0, &many) == 0 &&
        burst_measure(NULL, BURST_THREADS - 1, 0, &sched_many) == 0) {
        printf("  probes made per round: %.2f (peer connections %.2f)  (goal 1)\n",
               (double)probes_made(w.eng) / BURST_ROUNDS,
               (double)peer_connections(w.peer) / BURST_ROUNDS);
        printf("  the probe's own time (gate to first answer): %.1f ms on average\n",
               (double)many.answer_sum_us / BURST_ROUNDS / 1000.0);
        print_waits("joiners' extra wait over it (goal <= 1 ms)", &many);
        print_waits("  the scheduler's part: as many threads woken by one call, nothing else",
                    &sched_many);
        printf("    ours (the rest): p50 %.3f ms, p99 %.3f ms\n", ours_ms(&many, &sched_many, 50),
               ours_ms(&many, &sched_many, 99));
    }
    if (burst_measure(&w, BURST_FEW_THREADS, BURST_ROUNDS, &few) == 0 &&
        burst_measure(NULL, BURST_FEW_THREADS - 1, 0, &sched_few) == 0) {
        char label[96];
        snprintf(label, sizeof label, "with %d threads instead: joiners' extra wait",
                 BURST_FEW_THREADS);
        print_waits(label, &few);
        print_waits("  the scheduler's part", &sched_few);
    }
    free(many.extra);
    free(sched_many.extra);
    free(few.extra);
    free(sched_few.extra);
    world_close(&w);
}

/* ---- warm ------------------------------------------------------------------ */

#define WARM_THREADS 8
#define WARM_DOMAINS 64
#define WARM_SECONDS 5
#define WARM_SAMPLES_MAX 2000000

#define WARM_PACED_RATE 2000 /* messages a second, all threads together */

typedef struct {
    world *w;
    int id;
    uint64_t start_ms, until_ms;
    unsigned per_second;  /* this thread's pace; 0: flat out */
    uint64_t *samples;
    size_t n;
    int errors;
} warm_thread;

static void warm_main(void *arg)
{
    warm_thread *t = arg;
    for (unsigned k = 0; plat_now_ms() < t->until_ms && t->n < WARM_SAMPLES_MAX; k++) {
        t->samples[t->n++] = route_to(t->w, (int)((k * 7 + (unsigned)t->id) % WARM_DOMAINS),
                                      &t->errors);
        if (t->per_second) {
            uint64_t due = t->start_ms + (uint64_t)(k + 1) * 1000 / t->per_second;
            if (plat_now_ms() < due)
                plat_sleep_ms((unsigned)(due - plat_now_ms()));
        }
    }
}

static void warm_up(world *w, int n, int *errors)
{
    for (int i = 0; i < n; i++)
        route_to(w, i, errors);
}

/* WARM_THREADS threads for WARM_SECONDS, each at per_second (0: flat
 * out); prints the route_run times and the rate. */
static void warm_run(world *w, unsigned per_second, const char *label)
{
    warm_thread t[WARM_THREADS];
    plat_thread *th[WARM_THREADS];
    uint64_t start = plat_now_ms();
    double cpu = cpu_now();
    int errors = 0;
    for (int i = 0; i < WARM_THREADS; i++) {
        t[i] = (warm_thread){ w, i, start, start + WARM_SECONDS * 1000, per_second, NULL, 0, 0 };
        t[i].samples = malloc(WARM_SAMPLES_MAX * sizeof *t[i].samples);
        th[i] = plat_thread_start(warm_main, &t[i]);
    }
    size_t total = 0;
    for (int i = 0; i < WARM_THREADS; i++) {
        plat_thread_join(th[i]);
        total += t[i].n;
        errors += t[i].errors;
    }
    double wall = (double)(plat_now_ms() - start) / 1000.0;
    cpu = cpu_now() - cpu;
    uint64_t *all = malloc((total ? total : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < WARM_THREADS; i++) {
        memcpy(all + k, t[i].samples, t[i].n * sizeof *all);
        k += t[i].n;
        free(t[i].samples);
    }
    qsort(all, total, sizeof *all, cmp_u64);
    printf("  %s: route_run p50 %.3f ms, p99 %.3f ms, max %.3f ms  (goal p99 <= 1 ms); "
           "%.0f messages/s wall, %.0f per CPU second (%zu messages, %d errors)\n",
           label, pct(all, total, 50) / 1000.0, pct(all, total, 99) / 1000.0,
           total ? all[total - 1] / 1000.0 : 0.0, (double)total / wall,
           (double)total / (cpu > 0 ? cpu : 1e-3), total, errors);
    free(all);
}

static void bench_warm(void)
{
    world w;
    if (world_open(&w, "nowaitwarm", WARM_DOMAINS, 0, "86400", 1) != 0)
        return;
    int errors = 0;
    warm_up(&w, WARM_DOMAINS, &errors);
    printf("warm: %d threads routing messages of 1 recipient to %d cached domains through "
           "route_run, journal on, %d s each\n",
           WARM_THREADS, WARM_DOMAINS, WARM_SECONDS);
    warm_run(&w, 0, "flat out");
    char label[64];
    snprintf(label, sizeof label, "at %d messages/s", WARM_PACED_RATE);
    warm_run(&w, WARM_PACED_RATE / WARM_THREADS, label);
    world_close(&w);
}

/* ---- a compressed day -------------------------------------------------------- */

#define DAY_DOMAINS 1000
#define DAY_LIFETIME_S 10
#define DAY_SECONDS 40
#define DAY_RATE 500 /* messages a second */

static void bench_day(void)
{
    world w;
    char ttl[16];
    snprintf(ttl, sizeof ttl, "%d", DAY_LIFETIME_S);
    if (world_open(&w, "nowaitday", DAY_DOMAINS, 0, ttl, 1) != 0)
        return;
    int errors = 0;
    warm_up(&w, DAY_DOMAINS, &errors); /* each domain's first message */
    stats_figures f;
    engine_figures(w.eng, &f);
    uint64_t refreshes_at_start = f.refreshes;
    uint64_t messages = 0, waited = 0;
    uint64_t start = plat_now_ms(), until = start + DAY_SECONDS * 1000;
    unsigned seed = 12345;
    while (plat_now_ms() < until) {
        seed = seed * 1103515245u + 12345u;
        int d = (int)((seed >> 8) % DAY_DOMAINS);
        engine_figures(w.eng, &f);
        uint64_t hits = f.cache_hits;
        route_to(&w, d, &errors);
        engine_figures(w.eng, &f);
        /* A message answered from the cache counts one hit; one that
         * waited for a probe (its own, or one it joined) counts none. */
        waited += f.cache_hits == hits;
        messages++;
        uint64_t due = start + messages * 1000 / DAY_RATE;
        if (plat_now_ms() < due)
            plat_sleep_ms((unsigned)(due - plat_now_ms()));
    }
    double seconds = (double)(plat_now_ms() - start) / 1000.0;
    engine_figures(w.eng, &f);
    double lifetimes = seconds / DAY_LIFETIME_S;
    printf("day: %d domains in use, cache lifetime %d s, %.0f s of messages at random "
           "(%.0f a second), refresh ahead on\n",
           DAY_DOMAINS, DAY_LIFETIME_S, seconds, messages / seconds);
    printf("  messages after a domain's first that waited for a probe: %llu of %llu (%.3f%%)  "
           "(goal 0)\n",
           (unsigned long long)waited, (unsigned long long)messages,
           messages ? 100.0 * (double)waited / (double)messages : 0.0);
    printf("  background probes per domain per lifetime: %.2f  (goal <= 1.3; %llu refreshes "
           "over %.1f lifetimes)\n",
           (double)(f.refreshes - refreshes_at_start) / DAY_DOMAINS / lifetimes,
           (unsigned long long)(f.refreshes - refreshes_at_start), lifetimes);
    if (errors)
        printf("  errors: %d\n", errors);
    world_close(&w);
}

/* ---- memory ------------------------------------------------------------------- */

#define MEM_THREADS 8
#define MEM_DOMAINS 1000
/* Private memory is printed after each of these many messages: SQLite's
 * page caches (2 MB a connection) and the allocator's arenas fill over the
 * first tens of thousands, so flat is judged from 100,000 on. */
static const int mem_marks[] = { 10000, 50000, 100000, 200000, 300000 };

typedef struct {
    world *w;
    int id;
    int count;
    int errors;
} mem_thread;

static void mem_main(void *arg)
{
    mem_thread *t = arg;
    unsigned seed = (unsigned)t->id * 7919u + 1;
    for (int i = 0; i < t->count; i++) {
        seed = seed * 1103515245u + 12345u;
        route_to(t->w, (int)((seed >> 8) % MEM_DOMAINS), &t->errors);
    }
}

static void route_spread(world *w, int n, int *errors)
{
    mem_thread t[MEM_THREADS];
    plat_thread *th[MEM_THREADS];
    for (int i = 0; i < MEM_THREADS; i++) {
        t[i] = (mem_thread){ w, i + n, n / MEM_THREADS, 0 };
        th[i] = plat_thread_start(mem_main, &t[i]);
    }
    for (int i = 0; i < MEM_THREADS; i++) {
        plat_thread_join(th[i]);
        *errors += t[i].errors;
    }
}

static void bench_memory(void)
{
    world w;
    /* Lifetimes of 5 s: the refresher works all through the run. */
    if (world_open(&w, "nowaitmem", MEM_DOMAINS, 0, "5", 1) != 0)
        return;
    int errors = 0, routed = 0;
    warm_up(&w, MEM_DOMAINS, &errors);
    printf("memory: %d routing threads, %d domains, lifetimes of 5 s, refresh ahead on; "
           "private memory and the allocator's bytes in use after\n",
           MEM_THREADS, MEM_DOMAINS);
    long private_at_100k = -1, private_kb = -1, in_use_at_100k = -1, in_use_kb = -1;
    for (size_t i = 0; i < sizeof mem_marks / sizeof mem_marks[0]; i++) {
        route_spread(&w, mem_marks[i] - routed, &errors);
        routed = mem_marks[i];
        private_kb = trtest_private_kb();
        in_use_kb = trtest_heap_in_use_kb();
        if (routed == 100000) {
            private_at_100k = private_kb;
            in_use_at_100k = in_use_kb;
        }
        stats_figures f;
        engine_figures(w.eng, &f);
        printf("  %7d messages: private %6ld kB, in use %6ld kB  (%llu refreshes so far)\n",
               routed, private_kb, in_use_kb, (unsigned long long)f.refreshes);
        fflush(stdout);
    }
    /* Bytes in use are what the program holds; private memory adds what
     * the allocator keeps for reuse (glibc: an arena per thread). */
    printf("  from 100,000 to %d messages: in use %+ld kB (goal flat), private %+ld kB\n", routed,
           in_use_kb - in_use_at_100k, private_kb - private_at_100k);
    if (errors)
        printf("  errors: %d\n", errors);
    world_close(&w);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*run)(void);
    } parts[] = { { "burst", bench_burst },
                  { "warm", bench_warm },
                  { "day", bench_day },
                  { "memory", bench_memory } };
    size_t n = sizeof parts / sizeof parts[0];
    for (size_t i = 0; i < n; i++) {
        int wanted = argc < 2;
        for (int a = 1; a < argc; a++)
            wanted |= strcmp(argv[a], parts[i].name) == 0;
        if (wanted) {
            parts[i].run();
            fflush(stdout);
        }
    }
    return 0;
}
