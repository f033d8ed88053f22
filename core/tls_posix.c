/* tls, POSIX side: the system's stack is OpenSSL (no other TLS stack of the
 * host delivers mail through us), and a chain is judged by an OpenSSL store
 * of the system's anchors (or of a PEM file). */
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>

#include "tls_backend.h"

const tls_backend *tls_system_backend(void) { return &tls_openssl_backend; }

struct tls_trust {
    X509_STORE *store;
};

tls_trust *tls_trust_new(const char *ca_file, char *err, size_t errlen)
{
    tls_trust *t = calloc(1, sizeof *t);
    int ok;
    if (!t || !(t->store = X509_STORE_new())) {
        free(t);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ok = ca_file && *ca_file ? X509_STORE_load_file(t->store, ca_file) == 1
                             : X509_STORE_set_default_paths(t->store) == 1;
    ERR_clear_error();
    if (!ok) {
        snprintf(err, errlen, "could not load trust anchors%s%s", ca_file ? " from " : "",
                 ca_file ? ca_file : "");
        tls_trust_free(t);
        return NULL;
    }
    return t;
}

void tls_trust_free(tls_trust *t)
{
    if (!t)
        return;
    X509_STORE_free(t->store);
    free(t);
}

/* The chain as OpenSSL objects: *leaf and the rest in *untrusted. */
static int decode_chain(const tls_der *chain, size_t n, X509 **leaf, STACK_OF(X509) **rest)
{
    size_t i;
    *leaf = NULL;
    *rest = sk_X509_new_null();
    for (i = 0; *rest && i < n; i++) {
        const unsigned char *p = chain[i].der;
        X509 *x = d2i_X509(NULL, &p, (long)chain[i].len);
        if (!x)
            break;
        if (i == 0)
            *leaf = x;
        else if (!sk_X509_push(*rest, x))
            X509_free(x);
    }
    return *leaf && *rest ? 0 : -1;
}

static tls_verdict check_chain(const tls_trust *t, X509 *leaf, STACK_OF(X509) *rest,
                               unsigned checks, const char *host, char *why, size_t whylen)
{
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    X509_VERIFY_PARAM *param;
    int ok, e;
    if (!ctx || X509_STORE_CTX_init(ctx, t->store, leaf, rest) != 1) {
        X509_STORE_CTX_free(ctx);
        snprintf(why, whylen, "out of memory");
        return TLS_VERIFY_ERROR;
    }
    X509_STORE_CTX_set_default(ctx, "ssl_server");
    param = X509_STORE_CTX_get0_param(ctx);
    if (!(checks & TLS_CHECK_TIME))
        X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    if (checks & TLS_CHECK_NAME) {
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        X509_VERIFY_PARAM_set1_host(param, host, 0);
    }
    ok = X509_verify_cert(ctx) == 1;
    e = X509_STORE_CTX_get_error(ctx);
    X509_STORE_CTX_free(ctx);
    ERR_clear_error();
    if (ok)
        return TLS_VERIFY_OK;
    if (e == X509_V_ERR_HOSTNAME_MISMATCH) {
        snprintf(why, whylen, "hostname mismatch: the certificate is not valid for %s", host);
        return TLS_VERIFY_NAME_MISMATCH;
    }
    snprintf(why, whylen, "%s", X509_verify_cert_error_string(e));
    return TLS_VERIFY_UNTRUSTED;
}

tls_verdict tls_trust_check(const tls_trust *t, const tls_der *chain, size_t n,
                            unsigned checks, const char *host, uint64_t deadline, char *why,
                            size_t whylen)
{
    X509 *leaf;
    STACK_OF(X509) *rest;
    tls_verdict v = TLS_VERIFY_OK;
    (void)deadline; /* the store is local: nothing is fetched */
    if (decode_chain(chain, n, &leaf, &rest) != 0) {
        snprintf(why, whylen, "the server's certificate could not be decoded");
        v = TLS_VERIFY_ERROR;
    } else if (checks & TLS_CHECK_CHAIN) {
        v = check_chain(t, leaf, rest, checks, host, why, whylen);
    } else if ((checks & TLS_CHECK_NAME)
               && X509_check_host(leaf, host, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL)
                      != 1) {
        snprintf(why, whylen, "hostname mismatch: the certificate is not valid for %s", host);
        v = TLS_VERIFY_NAME_MISMATCH;
    }
    X509_free(leaf);
    sk_X509_pop_free(rest, X509_free);
    ERR_clear_error();
    return v;
}
