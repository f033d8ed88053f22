/* probe_settings: the probe's options as the database's settings say
 * (dns_servers, probe_port, the three deadlines, ehlo_name, tls_floor,
 * verify_chain, verify_name), with room for the strings they point to. */
#ifndef TR_PROBE_SETTINGS_H
#define TR_PROBE_SETTINGS_H

#include "probe.h"
#include "store.h"

typedef struct {
    probe_options opts;
    char dns_servers[512];
    char ehlo_name[256];
} probe_settings;

/* Defaults first, then every setting present and valid on top. Returns
 * STORE_OK, or the first store failure (the defaults stay for that key). */
store_status probe_settings_load(store *st, probe_settings *out);

#endif
