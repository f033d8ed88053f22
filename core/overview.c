/* overview: see overview.h. Each figure is one grouped query over the
 * journal's time index; the top domains are ranked here, from one row per
 * (domain, reason) pair. */
#include "overview.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "errtext.h"
#include "stats.h"

static int fail(sqlite3 *db, char *err, size_t errlen)
{
    errtext_set(err, errlen, "overview: %s", sqlite3_errmsg(db));
    return -1;
}

static int leap_year(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

/* The date of a day counted from 1970-01-01 (day 0); the journal holds no
 * earlier times, so days before are shown as that date. */
static void civil_date(int64_t day, overview_day *out)
{
    static const int month_days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int year = 1970, month = 0;
    if (day < 0)
        day = 0;
    while (day >= 365 + leap_year(year)) {
        day -= 365 + leap_year(year);
        year++;
    }
    while (day >= month_days[month] + (month == 1 && leap_year(year))) {
        day -= month_days[month] + (month == 1 && leap_year(year));
        month++;
    }
    out->year = year;
    out->month = month + 1;
    out->mday = (int)day + 1;
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

int overview_days(sqlite3 *db, int64_t now_ms, overview_day days[OVERVIEW_DAYS], char *err,
                  size_t errlen)
{
    int64_t first_day = floor_div(now_ms, OVERVIEW_DAY_MS) - (OVERVIEW_DAYS - 1);
    int64_t start_ms = first_day * OVERVIEW_DAY_MS;
    memset(days, 0, sizeof *days * OVERVIEW_DAYS);
    for (int i = 0; i < OVERVIEW_DAYS; i++) {
        days[i].start_ms = start_ms + i * OVERVIEW_DAY_MS;
        civil_date(first_day + i, &days[i]);
    }
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "SELECT (at_ms - ?1) / ?3, route = 'plain', COUNT(*) FROM journal"
                           " WHERE at_ms >= ?1 AND at_ms < ?2 GROUP BY 1, 2",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen);
    sqlite3_bind_int64(st, 1, start_ms);
    sqlite3_bind_int64(st, 2, start_ms + OVERVIEW_DAYS * OVERVIEW_DAY_MS);
    sqlite3_bind_int64(st, 3, OVERVIEW_DAY_MS);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t i = sqlite3_column_int64(st, 0);
        uint64_t count = (uint64_t)sqlite3_column_int64(st, 2);
        if (i < 0 || i >= OVERVIEW_DAYS)
            continue;
        if (sqlite3_column_int(st, 1))
            days[i].plain += count;
        else
            days[i].tls += count;
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : fail(db, err, errlen);
}

/* a ranks before b: more recipients, then the domain name. */
static int ranks_before(const overview_plain_domain *a, const overview_plain_domain *b)
{
    return a->count != b->count ? a->count > b->count : strcmp(a->domain, b->domain) < 0;
}

/* Puts one domain's total into the ranked top list, if it belongs there. */
static void rank(overview_plain_domain top[OVERVIEW_TOP], size_t *n,
                 const overview_plain_domain *d)
{
    size_t at = *n;
    while (at > 0 && ranks_before(d, &top[at - 1]))
        at--;
    if (at >= OVERVIEW_TOP)
        return;
    size_t keep = *n < OVERVIEW_TOP ? *n : OVERVIEW_TOP - 1;
    memmove(&top[at + 1], &top[at], (keep - at) * sizeof *top);
    top[at] = *d;
    if (*n < OVERVIEW_TOP)
        (*n)++;
}

int overview_top_plain(sqlite3 *db, int64_t since_ms, int64_t until_ms,
                       overview_plain_domain out[OVERVIEW_TOP], size_t *n, char *err,
                       size_t errlen)
{
    sqlite3_stmt *st;
    *n = 0;
    /* Rows come grouped by domain, each reason of a domain in name order. */
    if (sqlite3_prepare_v2(db, "SELECT domain, reason, COUNT(*) FROM journal"
                           " WHERE at_ms >= ?1 AND at_ms < ?2 AND route = 'plain'"
                           " GROUP BY domain, reason ORDER BY domain, reason",
                           -1, &st, NULL) != SQLITE_OK)
        return fail(db, err, errlen);
    sqlite3_bind_int64(st, 1, since_ms);
    sqlite3_bind_int64(st, 2, until_ms);
    overview_plain_domain cur = { 0 };
    uint64_t cur_reason_count = 0;
    int have = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *domain = (const char *)sqlite3_column_text(st, 0);
        const char *reason = (const char *)sqlite3_column_text(st, 1);
        uint64_t count = (uint64_t)sqlite3_column_int64(st, 2);
        if (!have || strcmp(cur.domain, domain ? domain : "") != 0) {
            if (have)
                rank(out, n, &cur);
            memset(&cur, 0, sizeof cur);
            snprintf(cur.domain, sizeof cur.domain, "%s", domain ? domain : "");
            cur_reason_count = 0;
            have = 1;
        }
        cur.count += count;
        if (count > cur_reason_count) {   /* strictly more: the first name wins a tie */
            snprintf(cur.reason, sizeof cur.reason, "%s", reason ? reason : "");
            cur_reason_count = count;
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(db, err, errlen);
    if (have)
        rank(out, n, &cur);
    return 0;
}

static int count_rows(sqlite3 *db, const char *sql, uint64_t *out)
{
    sqlite3_stmt *st;
    *out = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

int overview_caches_read(sqlite3 *db, overview_caches *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (count_rows(db, "SELECT COUNT(*) FROM probe_cache", &out->probe_rows) != 0
        || count_rows(db, "SELECT COUNT(*) FROM expired_cache", &out->expired_rows) != 0
        || count_rows(db, "SELECT COUNT(*) FROM sts_policy", &out->sts_rows) != 0)
        return fail(db, err, errlen);
    stats_figures f;
    if (stats_read(db, &f, err, errlen) != 0)
        return -1;
    out->cache_hits = f.cache_hits;
    for (size_t i = 0; i < PROBE_OUTCOME_COUNT; i++)
        out->probes += f.probes[i];
    return 0;
}

int overview_hit_rate_permille(const overview_caches *c)
{
    uint64_t asked = c->cache_hits + c->probes;
    if (asked == 0)
        return -1;
    return (int)((c->cache_hits * 1000 + asked / 2) / asked);
}
