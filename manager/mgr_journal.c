/* mgr_journal: the positional journal view of mgr_data.h, through
 * core/journal.h's journal_view: the console translates its filter and
 * rows, and SQLite's words into sentences. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "decide.h"
#include "explain.h"
#include "journal.h"
#include "mgr_priv.h"

/* The reasons come from the explain table, the one list of them: a reason
 * added to the core shows up in the filter without a change here. */
const char *mgr_journal_reason(size_t index)
{
    for (int r = 0; r < DECIDE_REASON_COUNT; r++)
        if (explain_reason((decide_reason)r) && index-- == 0)
            return decide_reason_name((decide_reason)r);
    return NULL;
}

struct mgr_journal_view {
    journal_view *view;
};

int mgr_journal_open(mgr_db *db, const mgr_journal_filter *f,
                     mgr_journal_view **out, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    journal_filter filter = { .text = f->text, .route = f->route, .reason = f->reason,
                              .message_id = f->message_id, .sender = f->sender };
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
    snprintf(r->sender, sizeof r->sender, "%s", j->sender);
    snprintf(r->message_id, sizeof r->message_id, "%s", j->message_id);
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

static void export_row(FILE *out, const mgr_journal_row *r, mgr_time_format format_time)
{
    char at[64];
    format_time(r->at_ms, at, sizeof at);
    const char *cells[] = { at, r->recipient, r->domain, r->route, r->reason, r->mx,
                            r->tls_version, r->sender, r->message_id, r->detail };
    size_t n = sizeof cells / sizeof cells[0];
    for (size_t k = 0; k < n; k++)
        csv_write_cell(out, cells[k], k + 1 == n);
}

int mgr_journal_export_csv(mgr_db *db, const mgr_journal_filter *f, FILE *out,
                           mgr_time_format format_time, size_t *rows, char *err, size_t errlen)
{
    return mgr_view_export_csv(&mgr_journal_ops, db, f, out, format_time, rows, err, errlen);
}

/* Appends printf-style text to out[*used..len), never past the end. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void append(char *out, size_t len, size_t *used, const char *fmt, ...)
{
    va_list ap;
    if (*used >= len)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(out + *used, len - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used = *used + (size_t)n < len ? *used + (size_t)n : len - 1;
}

/* The reason in words comes first: the pane is short, and why is what the
 * admin selected the row for; the fields follow for a support ticket. */
void mgr_journal_details(const mgr_journal_row *r, mgr_time_format format_time, char *out,
                         size_t len)
{
    char at[64];
    size_t used = 0;
    format_time(r->at_ms, at, sizeof at);
    out[0] = 0;
    const explain_text *why = explain_lookup(r->reason);
    if (why)
        append(out, len, &used, "%s (%s). %s\r\nWhat to do: %s\r\n\r\n", why->title,
               r->reason, why->meaning, why->action);
    else
        append(out, len, &used, "This version of TLS Router has no explanation of the reason "
               "'%s'.\r\n\r\n", r->reason);
    append(out, len, &used, "%s   %s   route %s, reason %s\r\n", at, r->recipient, r->route,
           r->reason);
    append(out, len, &used, "Sender: %s   Message-ID: %s\r\n", r->sender[0] ? r->sender : "-",
           r->message_id[0] ? r->message_id : "-");
    append(out, len, &used, "MX: %s   TLS version: %s", r->mx[0] ? r->mx : "-",
           r->tls_version[0] ? r->tls_version : "-");
    if (r->detail[0])
        append(out, len, &used, "\r\nDetail: %s", r->detail);
}

/* mgr_view_ops over the journal: the same calls with the view's types
 * behind void pointers. */
static int ops_open(mgr_db *db, const void *filter, void **view, char *err, size_t errlen)
{
    mgr_journal_view *v;
    int rc = mgr_journal_open(db, filter, &v, err, errlen);
    *view = rc == 0 ? v : NULL;
    return rc;
}

static void ops_close(void *view) { mgr_journal_close(view); }
static size_t ops_count(const void *view) { return mgr_journal_count(view); }

static long ops_read(void *view, size_t first, size_t n, void *rows, char *err, size_t errlen)
{
    return mgr_journal_read(view, first, n, rows, err, errlen);
}

static void ops_csv_row(FILE *out, const void *row, mgr_time_format format_time)
{
    export_row(out, row, format_time);
}

const mgr_view_ops mgr_journal_ops = {
    .row_size = sizeof(mgr_journal_row),
    .csv_header = "time,recipient,domain,route,reason,mx,tls_version,sender,message_id,detail\r\n",
    .open = ops_open,
    .close = ops_close,
    .count = ops_count,
    .read = ops_read,
    .csv_row = ops_csv_row,
};
