/* tls: the interface of tls.h over the backends of tls_backend.h, and the
 * names of stacks, protocols and cipher suites. */
#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plat.h"
#include "tls_backend.h"

struct tls_client {
    const tls_backend *be;
    void *impl;
    tls_trust *trust;  /* anchors for TLS_CHECK_CHAIN; NULL when not asked */
};

struct tls_session {
    const tls_backend *be;
    void *impl;
    const tls_client *client;
};

const char *tls_stack_name(tls_stack s)
{
    switch (s) {
    case TLS_STACK_OPENSSL: return "openssl";
    case TLS_STACK_SCHANNEL: return "schannel";
    default: return "";
    }
}

int tls_stack_parse(const char *name, tls_stack *out)
{
    if (strcmp(name, "openssl") == 0)
        *out = TLS_STACK_OPENSSL;
    else if (strcmp(name, "schannel") == 0)
        *out = TLS_STACK_SCHANNEL;
    else
        return -1;
    return 0;
}

tls_stack tls_system_stack(void) { return tls_system_backend()->stack; }

static const tls_backend *backend_for(tls_stack s)
{
    if (s == TLS_STACK_OPENSSL)
        return &tls_openssl_backend;
    if (s != TLS_STACK_NONE && s == tls_system_stack())
        return tls_system_backend();
    return NULL;
}

int tls_stack_available(tls_stack s) { return backend_for(s) != NULL; }

const char *tls_protocol_name(tls_protocol p)
{
    switch (p) {
    case TLS_PROTO_TLS10: return "TLSv1";
    case TLS_PROTO_TLS11: return "TLSv1.1";
    case TLS_PROTO_TLS12: return "TLSv1.2";
    case TLS_PROTO_TLS13: return "TLSv1.3";
    case TLS_PROTO_SSL3: return "SSLv3";
    default: return "";
    }
}

/* The suites a mail server of the last twenty years may pick, from the
 * IANA "TLS Cipher Suites" registry. */
static const struct {
    unsigned short code;
    const char *name;
} suites[] = {
    { 0x0004, "TLS_RSA_WITH_RC4_128_MD5" },
    { 0x0005, "TLS_RSA_WITH_RC4_128_SHA" },
    { 0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA" },
    { 0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA" },
    { 0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA" },
    { 0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA" },
    { 0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256" },
    { 0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0x006A, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256" },
    { 0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256" },
    { 0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0x1301, "TLS_AES_128_GCM_SHA256" },
    { 0x1302, "TLS_AES_256_GCM_SHA384" },
    { 0x1303, "TLS_CHACHA20_POLY1305_SHA256" },
    { 0x1304, "TLS_AES_128_CCM_SHA256" },
    { 0x1305, "TLS_AES_128_CCM_8_SHA256" },
    { 0xC007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA" },
    { 0xC008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA" },
    { 0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA" },
    { 0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA" },
    { 0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA" },
    { 0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA" },
    { 0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA" },
    { 0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256" },
    { 0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384" },
    { 0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256" },
    { 0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384" },
    { 0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" },
    { 0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" },
    { 0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" },
    { 0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" },
    { 0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256" },
    { 0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" },
};

const char *tls_suite_name(unsigned code)
{
    size_t i;
    for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (suites[i].code == code)
            return suites[i].name;
    return NULL;
}

int tls_suite_code(const char *name)
{
    size_t i;
    for (i = 0; i < sizeof suites / sizeof suites[0]; i++)
        if (strcmp(suites[i].name, name) == 0)
            return suites[i].code;
    return -1;
}

/* ---- clients and sessions --------------------------------------------- */

/* Every function below that may reach OpenSSL notes it first, so the
 * thread's cleanup knows whether there is state to free. */
void tls_thread_note_use(void) { plat_thread_flag_set(); }

tls_client *tls_client_new(tls_stack stack, const tls_client_options *o, char *err,
                           size_t errlen)
{
    tls_thread_note_use();
    const tls_backend *be = backend_for(stack);
    tls_client *c;
    if (!be) {
        snprintf(err, errlen, "the TLS stack \"%s\" is not available here",
                 tls_stack_name(stack));
        return NULL;
    }
    c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->be = be;
    if (o->verify_chain && !(c->trust = tls_trust_new(o->ca_file, err, errlen))) {
        free(c);
        return NULL;
    }
    c->impl = be->client_new(o, err, errlen);
    if (!c->impl) {
        tls_trust_free(c->trust);
        free(c);
        return NULL;
    }
    return c;
}

void tls_client_free(tls_client *c)
{
    if (!c)
        return;
    tls_thread_note_use();
    c->be->client_free(c->impl);
    tls_trust_free(c->trust);
    free(c);
}

tls_stack tls_client_stack(const tls_client *c) { return c->be->stack; }

tls_session *tls_session_start(tls_client *c, net_fd fd, const char *server_name,
                               char *err, size_t errlen)
{
    tls_thread_note_use();
    tls_session *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->be = c->be;
    s->client = c;
    s->impl = c->be->session_start(c->impl, fd, server_name, err, errlen);
    if (!s->impl) {
        free(s);
        return NULL;
    }
    return s;
}

int tls_session_handshake(tls_session *s, uint64_t deadline, tls_info *info)
{
    tls_thread_note_use();
    memset(info, 0, sizeof *info);
    info->stack = s->be->stack;
    return s->be->handshake(s->impl, deadline, info);
}

int tls_session_read(tls_session *s, void *buf, size_t cap, uint64_t deadline)
{
    tls_thread_note_use();
    return s->be->read(s->impl, buf, cap, deadline);
}

int tls_session_write(tls_session *s, const void *buf, size_t len, uint64_t deadline)
{
    tls_thread_note_use();
    return s->be->write(s->impl, buf, len, deadline);
}

void tls_session_close(tls_session *s)
{
    if (!s)
        return;
    tls_thread_note_use();
    s->be->session_close(s->impl);
    free(s);
}

tls_verdict tls_session_verify(tls_session *s, unsigned checks, const char *host,
                               uint64_t deadline, char *why, size_t whylen)
{
    tls_thread_note_use();
    tls_der chain[TLS_CHAIN_MAX];
    size_t n = s->be->peer_chain(s->impl, chain, TLS_CHAIN_MAX);
    if (n == 0) {
        snprintf(why, whylen, "the server sent no certificate");
        return TLS_VERIFY_ERROR;
    }
    if ((checks & TLS_CHECK_CHAIN) && !s->client->trust) {
        snprintf(why, whylen, "no trust anchors were loaded");
        return TLS_VERIFY_ERROR;
    }
    if ((checks & TLS_CHECK_NAME) && (!host || !*host)) {
        snprintf(why, whylen, "no host name to check");
        return TLS_VERIFY_ERROR;
    }
    return tls_trust_check(s->client->trust, chain, n, checks, host, deadline, why, whylen);
}
