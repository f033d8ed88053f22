/* mgr_cache: the expired-certificate list and the probe cache of
 * mgr_data.h, through core/expcache.h and core/pcache.h: the console
 * translates their rows into its own and their errors into sentences. */
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
        out[i].confirmed = e[i].confirmed_ms >= 0;
        out[i].next_check_ms = e[i].next_check_ms;
    }
    free(e);
    *rows = out;
    *count = n;
    return 0;
}

int mgr_probe_list(mgr_db *db, mgr_probe_row **rows, size_t *count, char *err, size_t errlen)
{
    pcache_entry *e;
    size_t n;
    char why[MGR_ERR_LEN];
    *rows = NULL;
    *count = 0;
    if (pcache_list(db->sql, PCACHE_BY_DOMAIN, &e, &n, why, sizeof why) != 0) {
        mgr_set_err(err, errlen, "Could not read the %s.", why);
        return -1;
    }
    mgr_probe_row *out = calloc(n ? n : 1, sizeof *out);
    if (!out) {
        free(e);
        mgr_set_err(err, errlen, "Out of memory.");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        mgr_probe_row *r = &out[i];
        snprintf(r->domain, sizeof r->domain, "%s", e[i].domain);
        snprintf(r->status, sizeof r->status, "%s", pcache_entry_status(&e[i]));
        snprintf(r->mx, sizeof r->mx, "%s", e[i].mx);
        snprintf(r->tls_version, sizeof r->tls_version, "%s", e[i].tls_version);
        snprintf(r->cipher, sizeof r->cipher, "%s", e[i].cipher);
        r->cert_not_after = e[i].cert_not_after > 0 ? e[i].cert_not_after : 0;
        snprintf(r->error, sizeof r->error, "%s", e[i].error);
        r->probed_ms = e[i].probed_ms;
        r->expires_ms = e[i].expires_ms;
    }
    free(e);
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

int mgr_expired_remove(mgr_db *db, const char *domain, char *err, size_t errlen)
{
    char why[MGR_ERR_LEN];
    int rc = expcache_remove(NULL, db->sql, domain, why, sizeof why);
    if (rc < 0)
        mgr_set_err(err, errlen, "Could not remove %s from the expired-certificate list: %s.",
                    domain, why);
    return rc;
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
