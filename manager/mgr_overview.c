/* mgr_overview: the Overview tab's figures of mgr_data.h, through
 * core/overview.h; errors become the console's sentences. */
#include <stdio.h>
#include <string.h>

#include "mgr_priv.h"

int mgr_overview_read(mgr_db *db, int64_t now_ms, mgr_overview *out, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    memset(out, 0, sizeof *out);
    if (overview_days(db->sql, now_ms, out->days, why, sizeof why) != 0
        || overview_top_plain(db->sql, out->days[0].start_ms,
                              out->days[OVERVIEW_DAYS - 1].start_ms + OVERVIEW_DAY_MS, out->top,
                              &out->top_count, why, sizeof why) != 0
        || overview_caches_read(db->sql, &out->caches, why, sizeof why) != 0) {
        mgr_set_err(err, errlen, "Could not read the overview: %s.", why);
        return -1;
    }
    return mgr_figures_text(db, out->figures, sizeof out->figures, err, errlen);
}
