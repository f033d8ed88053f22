/* mgr_journal: the positional journal view of mgr_data.h, through
 * core/journal.h's journal_view: the console translates its filter and
 * rows, and SQLite's words into sentences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "decide.h"
#include "journal.h"
#include "mgr_priv.h"

const char *mgr_journal_reason(size_t index)
{
    return index <= DECIDE_PROBE_FAILED ? decide_reason_name((decide_reason)index) : NULL;
}

struct mgr_journal_view {
    journal_view *view;
};

int mgr_journal_open(mgr_db *db, const mgr_journal_filter *f,
                     mgr_journal_view **out, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    journal_filter filter = { .text = f->text, .route = f->route, .reason = f->reason };
    mgr_journal_view *v = calloc(1, sizeof *v);
    *out = NULL;
    if (!v) {
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    if (journal_view_open(db->sql, &filter, &v->view, why, sizeof why) != 0) {
        mgr_set_err(err, errlen, "Could not read the %s.", why);
        free(v);
        return -1;
    }
    *out = v;
    return 0;
}

void mgr_journal_close(mgr_journal_view *v)
{
    if (!v)
        return;
    journal_view_close(v->view);
    free(v);
}

size_t mgr_journal_count(const mgr_journal_view *v) { return journal_view_count(v->view); }

static void row_from_journal(const journal_row *j, mgr_journal_row *r)
{
    r->id = j->id;
    r->at_ms = j->at_ms;
    snprintf(r->recipient, sizeof r->recipient, "%s", j->recipient);
    snprintf(r->domain, sizeof r->domain, "%s", j->domain);
    snprintf(r->route, sizeof r->route, "%s", j->route);
    snprintf(r->reason, sizeof r->reason, "%s", j->reason);
    snprintf(r->mx, sizeof r->mx, "%s", j->mx);
    snprintf(r->tls_version, sizeof r->tls_version, "%s", j->tls_version);
    snprintf(r->detail, sizeof r->detail, "%s", j->detail);
}

long mgr_journal_read(mgr_journal_view *v, size_t first, size_t n,
                      mgr_journal_row *rows, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    size_t count = journal_view_count(v->view);
    if (first >= count || n == 0)
        return 0;
    if (n > count - first)
        n = count - first;
    journal_row *page = malloc(n * sizeof *page);
    if (!page) {
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    long got = journal_view_read(v->view, first, n, page, why, sizeof why);
    if (got < 0)
        mgr_set_err(err, errlen, "Could not read the %s.", why);
    for (long i = 0; i < got; i++)
        row_from_journal(&page[i], &rows[i]);
    free(page);
    return got;
}

/* Rows read per step of an export: a million rows never sit in memory. */
#define EXPORT_PAGE 256

static void export_row(FILE *out, const mgr_journal_row *r, mgr_time_format format_time)
{
    char at[64];
    format_time(r->at_ms, at, sizeof at);
    const char *cells[] = { at, r->recipient, r->domain, r->route, r->reason, r->mx,
                            r->tls_version, r->detail };
    size_t n = sizeof cells / sizeof cells[0];
    for (size_t k = 0; k < n; k++)
        csv_write_cell(out, cells[k], k + 1 == n);
}

int mgr_journal_export_csv(mgr_db *db, const mgr_journal_filter *f, FILE *out,
                           mgr_time_format format_time, size_t *rows, char *err, size_t errlen)
{
    mgr_journal_view *v;
    *rows = 0;
    if (mgr_journal_open(db, f, &v, err, errlen) != 0)
        return -1;
    mgr_journal_row *page = malloc(EXPORT_PAGE * sizeof *page);
    int rc = 0;
    if (!page) {
        mgr_set_err(err, errlen, "Out of memory.");
        rc = -1;
    }
    fputs("\xEF\xBB\xBFtime,recipient,domain,route,reason,mx,tls_version,detail\r\n", out);
    for (size_t pos = 0; page && pos < mgr_journal_count(v);) {
        long got = mgr_journal_read(v, pos, EXPORT_PAGE, page, err, errlen);
        if (got <= 0) {
            rc = got < 0 ? -1 : 0;
            break;
        }
        for (long i = 0; i < got; i++)
            export_row(out, &page[i], format_time);
        pos += (size_t)got;
        *rows += (size_t)got;
    }
    free(page);
    mgr_journal_close(v);
    return rc;
}
