/* mgr_log: the Log tab's positional view over core/log.h. The log table
 * has no index but its primary key, and log_read_filtered pages by id:
 * opening a view collects the matching ids once (newest first), so
 * position p is ids[p] and a window of rows is one paged read from there. */
#include <stdio.h>
#include <stdlib.h>

#include "csv.h"
#include "mgr_priv.h"

/* Rows read per step while collecting the ids. */
#define OPEN_PAGE 256

struct mgr_log_view {
    mgr_db *db;
    mgr_log_filter filter;
    int64_t *ids;
    size_t count, cap;
};

const char *mgr_log_level_word(log_level level)
{
    const char *name = store_log_level_name((int)level);
    return name ? name : "unknown";
}

static log_filter core_filter(const mgr_log_view *v)
{
    log_filter f = { .most_verbose = v->filter.level, .text = v->filter.text };
    return f;
}

static int keep_id(mgr_log_view *v, int64_t id)
{
    if (v->count == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4096;
        int64_t *grown = realloc(v->ids, cap * sizeof *grown);
        if (!grown)
            return -1;
        v->ids = grown;
        v->cap = cap;
    }
    v->ids[v->count++] = id;
    return 0;
}

static int collect_ids(mgr_log_view *v, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    log_filter f = core_filter(v);
    log_row *page = malloc(OPEN_PAGE * sizeof *page);
    int64_t before = 0;
    long got = 0;
    if (!page)
        goto oom;
    while ((got = log_read_filtered(v->db->sql, &f, before, page, OPEN_PAGE, why,
                                    sizeof why)) > 0) {
        for (long i = 0; i < got; i++)
            if (keep_id(v, page[i].id) != 0)
                goto oom;
        before = page[got - 1].id;
    }
    free(page);
    if (got < 0)
        mgr_set_err(err, errlen, "Could not read the %s.", why);
    return got < 0 ? -1 : 0;
oom:
    free(page);
    mgr_set_err(err, errlen, "Out of memory.");
    return -1;
}

int mgr_log_open(mgr_db *db, const mgr_log_filter *f, mgr_log_view **out, char *err,
                 size_t errlen)
{
    mgr_log_view *v = calloc(1, sizeof *v);
    *out = NULL;
    if (!v) {
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    v->db = db;
    v->filter = *f;
    if (collect_ids(v, err, errlen) != 0) {
        mgr_log_close(v);
        return -1;
    }
    *out = v;
    return 0;
}

void mgr_log_close(mgr_log_view *v)
{
    if (!v)
        return;
    free(v->ids);
    free(v);
}

size_t mgr_log_count(const mgr_log_view *v) { return v->count; }

long mgr_log_read(mgr_log_view *v, size_t first, size_t n, log_row *rows, char *err,
                  size_t errlen)
{
    char why[MGR_ERR_LEN];
    if (first >= v->count || n == 0)
        return 0;
    if (n > v->count - first)
        n = v->count - first;
    log_filter f = core_filter(v);
    long got = log_read_filtered(v->db->sql, &f, v->ids[first] + 1, rows, n, why, sizeof why);
    if (got < 0) {
        mgr_set_err(err, errlen, "Could not read the %s.", why);
        return -1;
    }
    /* Rows pruned since the view opened are skipped; a row older than the
     * window would take another position's place, so it is dropped. */
    while (got > 0 && rows[got - 1].id < v->ids[first + n - 1])
        got--;
    return got;
}

static void export_row(FILE *out, const log_row *r, mgr_time_format format_time)
{
    char at[64];
    format_time(r->at_ms, at, sizeof at);
    csv_write_cell(out, at, 0);
    csv_write_cell(out, mgr_log_level_word(r->level), 0);
    csv_write_cell(out, r->source, 0);
    csv_write_cell(out, r->message, 1);
}

/* mgr_view_ops over the log, as mgr_journal_ops over the journal. */
static int ops_open(mgr_db *db, const void *filter, void **view, char *err, size_t errlen)
{
    mgr_log_view *v;
    int rc = mgr_log_open(db, filter, &v, err, errlen);
    *view = rc == 0 ? v : NULL;
    return rc;
}

static void ops_close(void *view) { mgr_log_close(view); }
static size_t ops_count(const void *view) { return mgr_log_count(view); }

static long ops_read(void *view, size_t first, size_t n, void *rows, char *err, size_t errlen)
{
    return mgr_log_read(view, first, n, rows, err, errlen);
}

static void ops_csv_row(FILE *out, const void *row, mgr_time_format format_time)
{
    export_row(out, row, format_time);
}

const mgr_view_ops mgr_log_ops = {
    .row_size = sizeof(log_row),
    .csv_header = "time,level,source,message\r\n",
    .open = ops_open,
    .close = ops_close,
    .count = ops_count,
    .read = ops_read,
    .csv_row = ops_csv_row,
};
