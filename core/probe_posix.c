/* probe, POSIX side: the TLS floor and trust store of a Unix host. */
#include "probe.h"

#include <openssl/ssl.h>

/* No system-wide client protocol switch to mirror: TLS 1.2, the floor of
 * today's mail servers. */
probe_floor probe_system_floor(void) { return PROBE_FLOOR_TLS12; }

int probe_load_system_roots(struct ssl_ctx_st *ctx)
{
    return SSL_CTX_set_default_verify_paths(ctx) == 1 ? 0 : -1;
}
