/* probe_settings: probe options from the settings table (see the header). */
#include "probe_settings.h"

#include <string.h>

static unsigned setting_uint(store *st, const char *key, unsigned fallback)
{
    int64_t v = store_setting_int(st, key, (int64_t)fallback);
    return v >= 0 && v <= 0x7fffffff ? (unsigned)v : fallback;
}

store_status probe_settings_load(store *st, probe_settings *out)
{
    char floor[32];
    store_status rc;
    probe_options *o = &out->opts;

    memset(out, 0, sizeof *out);
    probe_options_default(o);
    o->port = setting_uint(st, "probe_port", o->port);
    o->connect_timeout_ms = setting_uint(st, "connect_timeout_ms", o->connect_timeout_ms);
    o->reply_timeout_ms = setting_uint(st, "reply_timeout_ms", o->reply_timeout_ms);
    o->total_timeout_ms = setting_uint(st, "total_timeout_ms", o->total_timeout_ms);
    o->verify_chain = setting_uint(st, "verify_chain", (unsigned)o->verify_chain) == 1;
    o->verify_name = setting_uint(st, "verify_name", (unsigned)o->verify_name) == 1;

    rc = store_setting_get(st, "dns_servers", out->dns_servers, sizeof out->dns_servers);
    if (rc == STORE_OK)
        rc = store_setting_get(st, "ehlo_name", out->ehlo_name, sizeof out->ehlo_name);
    if (rc == STORE_OK)
        rc = store_setting_get(st, "tls_floor", floor, sizeof floor);
    /* A word this version does not know keeps the default. */
    if (rc == STORE_OK)
        (void)probe_floor_parse(floor, &o->floor);
    o->dns_servers = out->dns_servers[0] ? out->dns_servers : NULL;
    o->ehlo_name = out->ehlo_name[0] ? out->ehlo_name : NULL;
    return rc;
}
