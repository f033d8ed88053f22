/* tls_openssl: the OpenSSL backend of tls.h, on every platform (the
 * probe's stack on POSIX, the MTA-STS fetch's everywhere, the manager's
 * second opinion on Windows). The socket is driven non-blocking with
 * net_wait, so every step keeps its deadline. */
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "tls_backend.h"

typedef struct {
    SSL *ssl;
    net_fd fd;
    unsigned char *der[TLS_CHAIN_MAX]; /* the presented chain, once asked */
    size_t der_len[TLS_CHAIN_MAX];
    size_t nder;
    int chain_read;
} ossl_session;

/* ---- client ---------------------------------------------------------- */

static int min_version(tls_protocol p)
{
    switch (p) {
    case TLS_PROTO_TLS10: return TLS1_VERSION;
    case TLS_PROTO_TLS11: return TLS1_1_VERSION;
    case TLS_PROTO_TLS13: return TLS1_3_VERSION;
    default: return TLS1_2_VERSION; /* OpenSSL's own choice: no system switch to follow */
    }
}

static void *ossl_client_new(const tls_client_options *o, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    int version = min_version(o->min_protocol);
    if (!ctx) {
        snprintf(err, errlen, "TLS setup failed");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, version);
    if (version < TLS1_2_VERSION) {
        /* OpenSSL 3 refuses TLS 1.0/1.1 (SHA-1 and MD5 in the handshake) at
         * any security level above 0: allowing them means really allowing. */
        SSL_CTX_set_security_level(ctx, 0);
        SSL_CTX_set_cipher_list(ctx, "ALL:!aNULL:@SECLEVEL=0");
    } else {
        /* Level 1 (OpenSSL's own default) rather than a distribution's
         * stricter one: IIS does not refuse 1024-bit keys either. */
        SSL_CTX_set_security_level(ctx, 1);
    }
    /* The chain is judged after the handshake (tls_session_verify), by the
     * platform's judge. */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    /* A server that closes without close_notify ends a read-to-close body. */
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
    return ctx;
}

static void ossl_client_free(void *client) { SSL_CTX_free(client); }

/* ---- session --------------------------------------------------------- */

static void *ossl_session_start(void *client, net_fd fd, const char *server_name, char *err,
                                size_t errlen)
{
    ossl_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fd = fd;
    s->ssl = SSL_new(client);
    /* OpenSSL keeps sockets as int; Winsock handles fit (they are small). */
    if (!s->ssl || SSL_set_fd(s->ssl, (int)fd) != 1
        || (server_name && *server_name
            && SSL_set_tlsext_host_name(s->ssl, server_name) != 1)) {
        snprintf(err, errlen, "TLS setup failed");
        SSL_free(s->ssl);
        free(s);
        return NULL;
    }
    return s;
}

/* Wait as OpenSSL asks after a call returned ret: NET_OK to call again,
 * NET_TIMEOUT, or NET_ERROR (a real failure, or the socket's). */
static int ossl_wait(ossl_session *s, int ret, uint64_t deadline)
{
    int e = SSL_get_error(s->ssl, ret);
    if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
        return NET_ERROR;
    return net_wait(s->fd, e == SSL_ERROR_WANT_WRITE, deadline);
}

/* A certificate time as Unix seconds into *unix_s: 0, or -1 (and 0 in
 * *unix_s) when the time cannot be read as a date (OpenSSL decodes a
 * UTCTime of month 13 and cannot convert it). */
static int asn1_time_to_unix(const ASN1_TIME *t, int64_t *unix_s)
{
    ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
    int days = 0, secs = 0;
    int ok = t && epoch && ASN1_TIME_diff(&days, &secs, epoch, t);
    ASN1_TIME_free(epoch);
    *unix_s = ok ? (int64_t)days * 86400 + secs : 0;
    return ok ? 0 : -1;
}

static void record_certificate(tls_info *info, X509 *cert)
{
    info->has_cert = 1;
    info->not_before_unreadable =
        asn1_time_to_unix(X509_get0_notBefore(cert), &info->not_before) != 0;
    info->not_after_unreadable =
        asn1_time_to_unix(X509_get0_notAfter(cert), &info->not_after) != 0;
    X509_NAME_oneline(X509_get_subject_name(cert), info->subject, sizeof info->subject);
    X509_NAME_oneline(X509_get_issuer_name(cert), info->issuer, sizeof info->issuer);
}

static tls_protocol protocol_of(const SSL *ssl)
{
    switch (SSL_version(ssl)) {
    case TLS1_VERSION: return TLS_PROTO_TLS10;
    case TLS1_1_VERSION: return TLS_PROTO_TLS11;
    case TLS1_2_VERSION: return TLS_PROTO_TLS12;
    case TLS1_3_VERSION: return TLS_PROTO_TLS13;
    case SSL3_VERSION: return TLS_PROTO_SSL3;
    default: return TLS_PROTO_NONE;
    }
}

static void record_session(ossl_session *s, tls_info *info)
{
    const char *suite = SSL_CIPHER_standard_name(SSL_get_current_cipher(s->ssl));
    X509 *cert = SSL_get1_peer_certificate(s->ssl);
    info->protocol = protocol_of(s->ssl);
    snprintf(info->suite, sizeof info->suite, "%s", suite ? suite : "");
    if (cert)
        record_certificate(info, cert);
    X509_free(cert);
}

static int ossl_handshake(void *session, uint64_t deadline, tls_info *info)
{
    ossl_session *s = session;
    for (;;) {
        int r, w;
        ERR_clear_error();
        r = SSL_connect(s->ssl);
        if (r == 1)
            break;
        w = ossl_wait(s, r, deadline);
        if (w == NET_TIMEOUT) {
            snprintf(info->error, sizeof info->error, "TLS handshake timed out");
            return NET_TIMEOUT;
        }
        if (w != NET_OK) {
            unsigned long e = ERR_peek_last_error();
            if (e)
                ERR_error_string_n(e, info->error, sizeof info->error);
            else
                snprintf(info->error, sizeof info->error,
                         "connection closed during the handshake");
            ERR_clear_error();
            return NET_ERROR;
        }
    }
    record_session(s, info);
    return NET_OK;
}

static int ossl_read(void *session, void *buf, size_t cap, uint64_t deadline)
{
    ossl_session *s = session;
    for (;;) {
        size_t got = 0;
        int r, w;
        ERR_clear_error();
        r = SSL_read_ex(s->ssl, buf, cap, &got);
        if (r == 1)
            return (int)got;
        if (SSL_get_error(s->ssl, r) == SSL_ERROR_ZERO_RETURN)
            return 0;
        w = ossl_wait(s, r, deadline);
        if (w != NET_OK) {
            ERR_clear_error();
            return w;
        }
    }
}

static int ossl_write(void *session, const void *buf, size_t len, uint64_t deadline)
{
    ossl_session *s = session;
    const char *p = buf;
    while (len > 0) {
        size_t put = 0;
        int r, w;
        ERR_clear_error();
        r = SSL_write_ex(s->ssl, p, len, &put);
        if (r == 1) {
            p += put;
            len -= put;
            continue;
        }
        w = ossl_wait(s, r, deadline);
        if (w != NET_OK) {
            ERR_clear_error();
            return w;
        }
    }
    return NET_OK;
}

/* The presented chain as DER, encoded once. */
static void read_chain(ossl_session *s)
{
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(s->ssl); /* the leaf first */
    int i, n = chain ? sk_X509_num(chain) : 0;
    s->chain_read = 1;
    for (i = 0; i < n && s->nder < TLS_CHAIN_MAX; i++) {
        unsigned char *der = NULL;
        int len = i2d_X509(sk_X509_value(chain, i), &der);
        if (len <= 0)
            break;
        s->der[s->nder] = der;
        s->der_len[s->nder++] = (size_t)len;
    }
}

static size_t ossl_peer_chain(void *session, tls_der *chain, size_t max)
{
    ossl_session *s = session;
    size_t i;
    if (!s->chain_read)
        read_chain(s);
    for (i = 0; i < s->nder && i < max; i++) {
        chain[i].der = s->der[i];
        chain[i].len = s->der_len[i];
    }
    return i;
}

static void ossl_session_close(void *session)
{
    ossl_session *s = session;
    size_t i;
    for (i = 0; i < s->nder; i++)
        OPENSSL_free(s->der[i]);
    SSL_free(s->ssl);
    ERR_clear_error();
    free(s);
}

int tls_thread_cleanup(void)
{
    if (!plat_thread_flag_take())
        return 0;
    OPENSSL_thread_stop();
    return 1;
}

const tls_backend tls_openssl_backend = {
    TLS_STACK_OPENSSL, ossl_client_new, ossl_client_free, ossl_session_start, ossl_handshake,
    ossl_read,         ossl_write,      ossl_peer_chain,  ossl_session_close,
};
