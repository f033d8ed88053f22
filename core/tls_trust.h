/* tls_trust: the platform's own judge of a server's certificate chain.
 * POSIX (tls_posix.c): an OpenSSL store of the system's anchors. Windows
 * (tls_win32.c): the Windows chain engine (CertGetCertificateChain and the
 * SSL policy), so on-demand roots, intermediates from the CA store and the
 * Disallowed store count as they do for every Windows program.
 * Private to the tls*.c files. */
#ifndef TR_TLS_TRUST_H
#define TR_TLS_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

/* One certificate, DER-encoded. */
typedef struct {
    const unsigned char *der;
    size_t len;
} tls_der;

/* The most certificates of a presented chain that are looked at. */
#define TLS_CHAIN_MAX 16

typedef struct tls_trust tls_trust;

/* Trust anchors: those of the PEM file ca_file (and nothing else), or the
 * platform's when ca_file is NULL or "". NULL with err when the file cannot
 * be read or holds no certificate. */
tls_trust *tls_trust_new(const char *ca_file, char *err, size_t errlen);
void tls_trust_free(tls_trust *t);

/* Judge chain[0..n) (leaf first, then what the server sent with it) as
 * checks says (TLS_CHECK_*; TLS_CHECK_TIME goes with TLS_CHECK_CHAIN). t
 * may be NULL without TLS_CHECK_CHAIN. Nothing is fetched past deadline. */
tls_verdict tls_trust_check(const tls_trust *t, const tls_der *chain, size_t n,
                            unsigned checks, const char *host, uint64_t deadline, char *why,
                            size_t whylen);

#endif
