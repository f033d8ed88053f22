/* mgr_cache: the expired-certificate list and the probe cache of
 * mgr_data.h. Listing and clearing the expired list and clearing the probe
 * cache go through core/expcache.h and core/pcache.h; listing the probe
 * cache is the console's own query (pcache.h has no listing). */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expcache.h"
#include "mgr_priv.h"
#include "pcache.h"

int mgr_expired_list(mgr_db *db, mgr_expired_row **rows, size_t *count, char *err, size_t errlen)
{
    expcache_entry *e;
    size_t n;
    char why[MGR_ERR_LEN];
    *rows = NULL;
    *count = 0;
    if (expcache_list(db->sql, &e, &n, why, sizeof why) != 0) {
        mgr_set_err(err, errlen, "Could not read the expired-certificate list: %s.", why);
        return -1;
    }
    mgr_expired_row *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        free(e);
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(out[i].domain, sizeof out[i].domain, "%s", e[i].domain);
        snprintf(out[i].mx, sizeof out[i].mx, "%s", e[i].mx);
        out[i].cert_not_after = e[i].cert_not_after > 0 ? e[i].cert_not_after : 0;
        out[i].first_seen_ms = e[i].first_seen_ms;
        out[i].last_seen_ms = e[i].last_seen_ms;
        out[i].expires_ms = e[i].expires_ms;
    }
    free(e);
    *rows = out;
    *count = n;
    return 0;
}

int mgr_probe_list(mgr_db *db, mgr_probe_row **rows, size_t *count, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    size_t n = 0, cap = 16;
    *rows = NULL;
    *count = 0;
    if (sqlite3_prepare_v2(db->sql,
            "SELECT domain, status, mx, tls_version, cipher, coalesce(cert_not_after, 0), "
            "error, probed_ms, expires_ms FROM probe_cache ORDER BY domain",
            -1, &st, NULL) != SQLITE_OK)
        return mgr_sql_fail(db, err, errlen, "read the probe cache");
    mgr_probe_row *out = malloc(cap * sizeof *out);
    while (out && sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            mgr_probe_row *grown = realloc(out, 2 * cap * sizeof *out);
            if (!grown)
                break;
            out = grown;
            cap *= 2;
        }
        mgr_probe_row *r = &out[n++];
        mgr_copy_text(r->domain, sizeof r->domain, sqlite3_column_text(st, 0));
        mgr_copy_text(r->status, sizeof r->status, sqlite3_column_text(st, 1));
        mgr_copy_text(r->mx, sizeof r->mx, sqlite3_column_text(st, 2));
        mgr_copy_text(r->tls_version, sizeof r->tls_version, sqlite3_column_text(st, 3));
        mgr_copy_text(r->cipher, sizeof r->cipher, sqlite3_column_text(st, 4));
        r->cert_not_after = sqlite3_column_int64(st, 5);
        mgr_copy_text(r->error, sizeof r->error, sqlite3_column_text(st, 6));
        r->probed_ms = sqlite3_column_int64(st, 7);
        r->expires_ms = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    *rows = out;
    *count = n;
    return 0;
}

/* The running engines reload the table within a second: no restart. */
int mgr_expired_clear(mgr_db *db, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    if (expcache_clear(db->sql, 0, plat_wall_ms(), why, sizeof why) < 0) {
        mgr_set_err(err, errlen, "Could not clear the expired-certificate list: %s.", why);
        return -1;
    }
    return 0;
}

int mgr_probe_clear(mgr_db *db, char *err, size_t errlen)
{
    pcache_ttls ttls;
    pcache_ttls_default(&ttls);
    pcache *cache = pcache_new(db->sql, &ttls);
    int rc = cache ? pcache_clear(cache, 0) : -1;
    pcache_free(cache);
    if (rc != 0)
        return mgr_sql_fail(db, err, errlen, "clear the probe cache");
    return 0;
}
