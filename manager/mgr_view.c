/* mgr_view: what the journal's and the log's positional views share: the
 * CSV export, a page of rows at a time. */
#include <stdlib.h>

#include "mgr_priv.h"

/* Rows read per step of an export: a million rows never sit in memory. */
#define EXPORT_PAGE 256

int mgr_view_export_csv(const mgr_view_ops *ops, mgr_db *db, const void *filter, FILE *out,
                        mgr_time_format format_time, size_t *rows, char *err, size_t errlen)
{
    void *v;
    *rows = 0;
    if (ops->open(db, filter, &v, err, errlen) != 0)
        return -1;
    unsigned char *page = malloc(EXPORT_PAGE * ops->row_size);
    int rc = 0;
    if (!page) {
        mgr_set_err(err, errlen, "Out of memory.");
        rc = -1;
    }
    fputs("\xEF\xBB\xBF", out);
    fputs(ops->csv_header, out);
    for (size_t pos = 0; page && pos < ops->count(v);) {
        long got = ops->read(v, pos, EXPORT_PAGE, page, err, errlen);
        if (got <= 0) {
            rc = got < 0 ? -1 : 0;
            break;
        }
        for (long i = 0; i < got; i++)
            ops->csv_row(out, page + (size_t)i * ops->row_size, format_time);
        pos += (size_t)got;
        *rows += (size_t)got;
    }
    free(page);
    ops->close(v);
    return rc;
}
