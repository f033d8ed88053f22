/* stats: counters as C11 atomics (relaxed: each is a tally, read whole
 * only by the flush), rows as (process, name, value) in the stats table. */
#include "stats.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef _Atomic uint64_t counter;

struct stats {
    counter messages;
    counter recipients;
    counter reasons[DECIDE_REASON_COUNT];
    counter probes[PROBE_OUTCOME_COUNT];
    counter cache_hits;
    counter refreshes;
    counter handoffs;
    counter handoff_failures;
    counter onarrival[STATS_BUCKETS + 1];
    counter onarrival_max_us;
};

/* Fine below a millisecond, where warm messages are, coarser up to the
 * minute a message may at most take. */
static const uint64_t bucket_bounds_us[STATS_BUCKETS] = {
    50,       100,      150,      200,      300,      400,      500,      600,      700,
    800,      900,      1000,     1250,     1500,     2000,     2500,     3000,     4000,
    5000,     7500,     10000,    15000,    20000,    30000,    50000,    75000,    100000,
    150000,   200000,   300000,   500000,   750000,   1000000,  1500000,  2000000,  3000000,
    5000000,  10000000, 20000000, 30000000, 60000000,
};

#define MAX_NAME "onarrival_max_us"

uint64_t stats_bucket_bound(size_t bucket)
{
    return bucket < STATS_BUCKETS ? bucket_bounds_us[bucket] : UINT64_MAX;
}

size_t stats_bucket_of(uint64_t us)
{
    size_t lo = 0, hi = STATS_BUCKETS; /* the first bound >= us, by halves */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (bucket_bounds_us[mid] < us)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

uint64_t stats_percentile_us(const stats_figures *f, double p)
{
    uint64_t total = 0;
    for (size_t i = 0; i <= STATS_BUCKETS; i++)
        total += f->onarrival[i];
    if (total == 0)
        return 0;
    /* The smallest time that at least p percent of the messages took no
     * longer than: the rank ceil(p * total / 100), counted from 1. */
    double want = p / 100.0 * (double)total;
    uint64_t rank = (uint64_t)want;
    if ((double)rank < want || rank == 0)
        rank++;
    uint64_t seen = 0;
    for (size_t i = 0; i <= STATS_BUCKETS; i++) {
        seen += f->onarrival[i];
        if (seen >= rank) {
            uint64_t bound = stats_bucket_bound(i);
            return bound < f->onarrival_max_us ? bound : f->onarrival_max_us;
        }
    }
    return f->onarrival_max_us;
}

/* ---- counting ------------------------------------------------------------ */

stats *stats_new(void)
{
    stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    /* calloc's zero bytes are a valid zero for each atomic on the
     * platforms built for; atomic_init says so to the compiler. */
    atomic_init(&s->messages, 0);
    return s;
}

void stats_free(stats *s) { free(s); }

static void add(counter *c, uint64_t n) { atomic_fetch_add_explicit(c, n, memory_order_relaxed); }

void stats_count_reason(stats *s, decide_reason reason)
{
    if ((unsigned)reason < DECIDE_REASON_COUNT)
        add(&s->reasons[reason], 1);
}

static void raise_max(counter *c, uint64_t v)
{
    uint64_t seen = atomic_load_explicit(c, memory_order_relaxed);
    while (v > seen &&
           !atomic_compare_exchange_weak_explicit(c, &seen, v, memory_order_relaxed,
                                                  memory_order_relaxed))
        ;
}

void stats_count_message(stats *s, size_t recipients, int handed_off, int handoff_failed,
                         uint64_t elapsed_us)
{
    add(&s->messages, 1);
    add(&s->recipients, recipients);
    if (handed_off)
        add(&s->handoffs, 1);
    if (handoff_failed)
        add(&s->handoff_failures, 1);
    add(&s->onarrival[stats_bucket_of(elapsed_us)], 1);
    raise_max(&s->onarrival_max_us, elapsed_us);
}

void stats_count_handoff_failure(stats *s) { add(&s->handoff_failures, 1); }

void stats_count_probe(stats *s, probe_status status)
{
    if (probe_status_is_outcome(status))
        add(&s->probes[status], 1);
}

void stats_count_cache_hit(stats *s) { add(&s->cache_hits, 1); }
void stats_count_refresh(stats *s) { add(&s->refreshes, 1); }

static uint64_t get(counter *c) { return atomic_load_explicit(c, memory_order_relaxed); }

void stats_snapshot(stats *s, stats_figures *out)
{
    memset(out, 0, sizeof *out);
    out->messages = get(&s->messages);
    out->recipients = get(&s->recipients);
    for (size_t i = 0; i < DECIDE_REASON_COUNT; i++)
        out->reasons[i] = get(&s->reasons[i]);
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        out->probes[i] = get(&s->probes[i]);
    out->cache_hits = get(&s->cache_hits);
    out->refreshes = get(&s->refreshes);
    out->handoffs = get(&s->handoffs);
    out->handoff_failures = get(&s->handoff_failures);
    for (size_t i = 0; i <= STATS_BUCKETS; i++)
        out->onarrival[i] = get(&s->onarrival[i]);
    out->onarrival_max_us = get(&s->onarrival_max_us);
}

/* ---- rows ------------------------------------------------------------------
 *
 * Each figure is one row per process, named as below; the names are what
 * the table stores, so they never change meaning. */

#define FIELDS_MAX (16 + DECIDE_REASON_COUNT + PROBE_OUTCOME_COUNT + STATS_BUCKETS + 1)

typedef struct {
    char name[40];
    uint64_t *value;
} field;

/* The row's name is prefix followed by word. */
static void put_field(field *fields, size_t *n, uint64_t *value, const char *prefix,
                      const char *word)
{
    snprintf(fields[*n].name, sizeof fields[*n].name, "%s%s", prefix, word);
    fields[*n].value = value;
    (*n)++;
}

/* Every figure of f but the longest time, which is not a sum. */
static size_t summed_fields(stats_figures *f, field *fields)
{
    size_t n = 0;
    char bound[24];
    put_field(fields, &n, &f->messages, "", "messages");
    put_field(fields, &n, &f->recipients, "", "recipients");
    put_field(fields, &n, &f->cache_hits, "", "cache_hits");
    put_field(fields, &n, &f->probe_joins, "", "probe_joins");
    put_field(fields, &n, &f->policy_joins, "", "policy_joins");
    put_field(fields, &n, &f->mx_shares, "", "mx_shares");
    put_field(fields, &n, &f->refreshes, "", "refreshes");
    put_field(fields, &n, &f->handoffs, "", "handoffs");
    put_field(fields, &n, &f->handoff_failures, "", "handoff_failures");
    for (size_t i = 0; i < DECIDE_REASON_COUNT; i++)
        put_field(fields, &n, &f->reasons[i], "reason.", decide_reason_name((decide_reason)i));
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        put_field(fields, &n, &f->probes[i], "probe.", probe_status_name((probe_status)i));
    for (size_t i = 0; i <= STATS_BUCKETS; i++) {
        if (i < STATS_BUCKETS)
            snprintf(bound, sizeof bound, "%llu", (unsigned long long)bucket_bounds_us[i]);
        else
            snprintf(bound, sizeof bound, "inf");
        put_field(fields, &n, &f->onarrival[i], "onarrival_le_us.", bound);
    }
    return n;
}

static void set_err(char *err, size_t errlen, sqlite3 *db, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, "stats: %s: %s", what, sqlite3_errmsg(db));
}

static int add_row(sqlite3_stmt *st, const char *process, const char *name, uint64_t value,
                   int64_t now_ms)
{
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, process, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)value);
    sqlite3_bind_int64(st, 4, now_ms);
    return sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
}

/* The longest time is kept as the larger; every other row adds up. */
static const char upsert_sql[] =
    "INSERT INTO stats (process, name, value, updated_ms) VALUES (?1, ?2, ?3, ?4)"
    " ON CONFLICT (process, name) DO UPDATE SET updated_ms = excluded.updated_ms,"
    " value = CASE WHEN excluded.name = '" MAX_NAME "' THEN MAX(value, excluded.value)"
    " ELSE value + excluded.value END";

/* Rows not written for a while (a process gone, or a figure it has not
 * counted lately) fold into process "": the sums stay as they were. */
static const char fold_sql[] =
    "INSERT INTO stats (process, name, value, updated_ms)"
    " SELECT '', name, CASE WHEN name = '" MAX_NAME "' THEN MAX(value) ELSE SUM(value) END, ?1"
    " FROM stats WHERE process <> '' AND updated_ms < ?2 GROUP BY name"
    " ON CONFLICT (process, name) DO UPDATE SET updated_ms = excluded.updated_ms,"
    " value = CASE WHEN excluded.name = '" MAX_NAME "' THEN MAX(value, excluded.value)"
    " ELSE value + excluded.value END";
static const char drop_folded_sql[] =
    "DELETE FROM stats WHERE process <> '' AND updated_ms < ?2";

static int write_deltas(sqlite3 *db, const char *process, const stats_figures *now,
                        const stats_figures *flushed, int64_t now_ms)
{
    stats_figures a = *now, b = *flushed;
    field fa[FIELDS_MAX], fb[FIELDS_MAX];
    size_t n = summed_fields(&a, fa);
    summed_fields(&b, fb);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, upsert_sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (*fa[i].value > *fb[i].value)
            rc = add_row(st, process, fa[i].name, *fa[i].value - *fb[i].value, now_ms);
    if (rc == 0 && a.onarrival_max_us > b.onarrival_max_us)
        rc = add_row(st, process, MAX_NAME, a.onarrival_max_us, now_ms);
    sqlite3_finalize(st);
    return rc;
}

static int run_at(sqlite3 *db, const char *sql, int64_t now_ms, int64_t cutoff_ms)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, cutoff_ms);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
    sqlite3_finalize(st);
    return rc;
}

static int fold_old_rows(sqlite3 *db, int64_t now_ms, int64_t cutoff_ms)
{
    if (run_at(db, fold_sql, now_ms, cutoff_ms) != 0)
        return -1;
    return run_at(db, drop_folded_sql, now_ms, cutoff_ms);
}

int stats_flush(sqlite3 *db, const char *process, const stats_figures *now,
                stats_figures *flushed, int64_t now_ms, int64_t fold_after_ms, char *err,
                size_t errlen)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        set_err(err, errlen, db, "cannot begin");
        return -1;
    }
    if (write_deltas(db, process, now, flushed, now_ms) != 0 ||
        fold_old_rows(db, now_ms, now_ms - fold_after_ms) != 0 ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        set_err(err, errlen, db, "cannot write the figures");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return -1;
    }
    *flushed = *now;
    return 0;
}

/* A summed row into out by its name; names this version does not know (a
 * newer one wrote them) are left out. */
static void take_row(stats_figures *out, field *fields, size_t n, const char *name,
                     uint64_t sum, uint64_t max)
{
    if (strcmp(name, MAX_NAME) == 0) {
        out->onarrival_max_us = max;
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (strcmp(fields[i].name, name) == 0) {
            *fields[i].value = sum;
            return;
        }
}

int stats_read(sqlite3 *db, stats_figures *out, char *err, size_t errlen)
{
    static const char sql[] = "SELECT name, SUM(value), MAX(value) FROM stats GROUP BY name";
    field fields[FIELDS_MAX];
    memset(out, 0, sizeof *out);
    size_t n = summed_fields(out, fields);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        set_err(err, errlen, db, "cannot read the figures");
        return -1;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *name = sqlite3_column_text(st, 0);
        if (name)
            take_row(out, fields, n, (const char *)name, (uint64_t)sqlite3_column_int64(st, 1),
                     (uint64_t)sqlite3_column_int64(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        set_err(err, errlen, db, "cannot read the figures");
        return -1;
    }
    return 0;
}
