/* tls_schannel_win32: the Schannel backend of tls.h, through SSPI: the
 * stack IIS SMTP itself delivers with, so the probe negotiates what IIS
 * will negotiate on this host.
 *
 * Credentials leave the protocol and suite choice to the system (its
 * defaults and the SCHANNEL registry switches); an explicit minimum only
 * takes protocols away. No automatic server-certificate validation
 * (SCH_CRED_MANUAL_CRED_VALIDATION): IIS checks neither chain nor name by
 * default, and the probe judges the certificate itself. The handshake runs
 * InitializeSecurityContext over the non-blocking socket with the caller's
 * deadline on every wait. */
#define SECURITY_WIN32
#define SCHANNEL_USE_BLACKLISTS /* SCH_CREDENTIALS and TLS_PARAMETERS */
#include <windows.h>
#include <wincrypt.h>
#include <subauth.h> /* UNICODE_STRING, which TLS_PARAMETERS uses */
#include <schannel.h>
#include <security.h>
#include <sspi.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_backend.h"

#define HANDSHAKE_BUFFER_MAX (256 * 1024) /* a handshake flight larger than this fails */
#define HANDSHAKE_ROUNDS_MAX 64
#define INITIAL_BUFFER (16 * 1024 + 512)
#define CLIENT_PROTOCOLS (SP_PROT_SSL2_CLIENT | SP_PROT_SSL3_CLIENT | SP_PROT_TLS1_X_CLIENT)

#define ISC_FLAGS                                                                          \
    (ISC_REQ_SEQUENCE_DETECT | ISC_REQ_REPLAY_DETECT | ISC_REQ_CONFIDENTIALITY             \
     | ISC_REQ_ALLOCATE_MEMORY | ISC_REQ_STREAM | ISC_REQ_MANUAL_CRED_VALIDATION)

typedef struct {
    CredHandle cred;
} sch_client;

typedef struct {
    CredHandle *cred;
    CtxtHandle ctx;
    int have_ctx;
    net_fd fd;
    wchar_t target[256];
    unsigned char *in;        /* received, not yet consumed by Schannel */
    size_t in_len, in_cap;
    unsigned char *plain;     /* decrypted, not yet returned */
    size_t plain_off, plain_len;
    unsigned char *out;       /* one encrypted record being built */
    SecPkgContext_StreamSizes sizes;
    int peer_closed;
    PCCERT_CONTEXT chain[TLS_CHAIN_MAX]; /* the presented chain, once asked */
    size_t nchain;
    int chain_read;
} sch_session;

/* ---- credentials ---------------------------------------------------- */

/* Client protocol bits below min (what an explicit minimum takes away). */
static DWORD protocols_below(tls_protocol min)
{
    DWORD bits = SP_PROT_SSL2_CLIENT | SP_PROT_SSL3_CLIENT;
    if (min > TLS_PROTO_TLS10)
        bits |= SP_PROT_TLS1_0_CLIENT;
    if (min > TLS_PROTO_TLS11)
        bits |= SP_PROT_TLS1_1_CLIENT;
    if (min > TLS_PROTO_TLS12)
        bits |= SP_PROT_TLS1_2_CLIENT;
    return bits;
}

/* The client protocols a credential allows, or 0 when Schannel does not
 * say. */
static DWORD credential_protocols(CredHandle *cred)
{
    SecPkgCred_SupportedProtocols sp;
    memset(&sp, 0, sizeof sp);
    if (QueryCredentialsAttributesW(cred, SECPKG_ATTR_SUPPORTED_PROTOCOLS, &sp) != SEC_E_OK)
        return 0;
    return sp.grbitProtocol & CLIENT_PROTOCOLS;
}

/* SCH_CREDENTIALS (Windows 10 1809 / Server 2019 and later): the structure
 * that can negotiate TLS 1.3 where the system enables it. */
static SECURITY_STATUS acquire_current(tls_protocol min, CredHandle *out)
{
    SCH_CREDENTIALS c;
    TLS_PARAMETERS tp;
    memset(&c, 0, sizeof c);
    memset(&tp, 0, sizeof tp);
    c.dwVersion = SCH_CREDENTIALS_VERSION;
    c.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    if (min != TLS_PROTO_NONE) {
        tp.grbitDisabledProtocols = protocols_below(min);
        c.cTlsParameters = 1;
        c.pTlsParameters = &tp;
    }
    return AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                     &c, NULL, NULL, out, NULL);
}

/* SCHANNEL_CRED, the structure every Windows (and Wine) knows; protocols 0:
 * the system's default set. */
static SECURITY_STATUS acquire_legacy(DWORD protocols, CredHandle *out)
{
    SCHANNEL_CRED c;
    memset(&c, 0, sizeof c);
    c.dwVersion = SCHANNEL_CRED_VERSION;
    c.grbitEnabledProtocols = protocols;
    c.dwFlags = SCH_CRED_MANUAL_CRED_VALIDATION | SCH_CRED_NO_DEFAULT_CREDS;
    return AcquireCredentialsHandleW(NULL, (SEC_WCHAR *)UNISP_NAME_W, SECPKG_CRED_OUTBOUND, NULL,
                                     &c, NULL, NULL, out, NULL);
}

/* With SCHANNEL_CRED an explicit protocol list may switch on what the
 * system has only "disabled by default": so the list is the system's
 * default set (asked of a default credential) minus what is below min. */
static SECURITY_STATUS acquire_legacy_min(tls_protocol min, CredHandle *out, char *err,
                                          size_t errlen)
{
    SECURITY_STATUS st = acquire_legacy(0, out);
    DWORD allowed;
    if (st != SEC_E_OK || min == TLS_PROTO_NONE)
        return st;
    allowed = credential_protocols(out);
    FreeCredentialsHandle(out);
    if (!allowed) /* not said: what SCHANNEL_CRED can ask for */
        allowed = SP_PROT_TLS1_0_CLIENT | SP_PROT_TLS1_1_CLIENT | SP_PROT_TLS1_2_CLIENT;
    allowed &= ~protocols_below(min);
    if (!allowed) {
        snprintf(err, errlen, "Schannel enables no protocol at or above %s on this system",
                 tls_protocol_name(min));
        return SEC_E_ALGORITHM_MISMATCH;
    }
    return acquire_legacy(allowed, out);
}

/* SCH_CREDENTIALS where the system takes it and honours its minimum: a
 * stack that accepts the structure but still allows what the minimum takes
 * away (Wine 8 reads it without its TLS_PARAMETERS) gets SCHANNEL_CRED. */
static SECURITY_STATUS acquire(tls_protocol min, CredHandle *out, char *err, size_t errlen)
{
    SECURITY_STATUS st = acquire_current(min, out);
    if (st == SEC_E_OK && min != TLS_PROTO_NONE
        && (credential_protocols(out) & protocols_below(min))) {
        FreeCredentialsHandle(out);
        st = SEC_E_UNSUPPORTED_FUNCTION;
    }
    if (st != SEC_E_OK) /* before Server 2019, and in Wine */
        st = acquire_legacy_min(min, out, err, errlen);
    return st;
}

static void *sch_client_new(const tls_client_options *o, char *err, size_t errlen)
{
    sch_client *c = calloc(1, sizeof *c);
    SECURITY_STATUS st;
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    err[0] = '\0';
    st = acquire(o->min_protocol, &c->cred, err, errlen);
    if (st != SEC_E_OK) {
        if (!err[0])
            snprintf(err, errlen, "Schannel credentials could not be acquired (0x%08lx)",
                     (unsigned long)st);
        free(c);
        return NULL;
    }
    return c;
}

static void sch_client_free(void *client)
{
    sch_client *c = client;
    if (!c)
        return;
    FreeCredentialsHandle(&c->cred);
    free(c);
}

/* ---- session --------------------------------------------------------- */

static void *sch_session_start(void *client, net_fd fd, const char *server_name, char *err,
                               size_t errlen)
{
    sch_session *s = calloc(1, sizeof *s);
    if (!s || !(s->in = malloc(INITIAL_BUFFER))) {
        free(s);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->in_cap = INITIAL_BUFFER;
    s->cred = &((sch_client *)client)->cred;
    s->fd = fd;
    if (server_name && *server_name
        && MultiByteToWideChar(CP_UTF8, 0, server_name, -1, s->target,
                               (int)(sizeof s->target / sizeof s->target[0])) == 0)
        s->target[0] = L'\0';
    return s;
}

/* Schannel's words for the usual failures. */
static void describe_status(SECURITY_STATUS st, char *buf, size_t len)
{
    static const struct {
        SECURITY_STATUS code;
        const char *text;
    } known[] = {
        { SEC_E_ALGORITHM_MISMATCH, "no protocol version or cipher suite in common with the "
                                    "server" },
        { SEC_E_ILLEGAL_MESSAGE, "the server sent a message Schannel does not accept" },
        { SEC_E_UNSUPPORTED_FUNCTION, "the server asked for something this system does not "
                                      "enable" },
        { SEC_E_INTERNAL_ERROR, "the handshake failed inside Schannel" },
        { SEC_E_NO_AUTHENTICATING_AUTHORITY, "no protocol is enabled for Schannel clients" },
        { SEC_E_DECRYPT_FAILURE, "a record could not be decrypted" },
        { SEC_E_MESSAGE_ALTERED, "a record was altered" },
        { SEC_E_INVALID_TOKEN, "the server's handshake message is invalid" },
        { SEC_E_WRONG_PRINCIPAL, "the server's name does not match" },
    };
    size_t i;
    for (i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (known[i].code == st) {
            snprintf(buf, len, "Schannel: %s (0x%08lx)", known[i].text, (unsigned long)st);
            return;
        }
    }
    snprintf(buf, len, "Schannel: error 0x%08lx", (unsigned long)st);
}

/* Send and free a token Schannel produced. */
static int send_token(sch_session *s, SecBuffer *tok, uint64_t deadline)
{
    int rc = NET_OK;
    if (tok->pvBuffer && tok->cbBuffer > 0)
        rc = net_send_all(s->fd, tok->pvBuffer, tok->cbBuffer, deadline, NULL, 0);
    if (tok->pvBuffer)
        FreeContextBuffer(tok->pvBuffer);
    tok->pvBuffer = NULL;
    tok->cbBuffer = 0;
    return rc;
}

/* Keep only what Schannel left unread (SECBUFFER_EXTRA) of s->in. */
static void keep_extra(sch_session *s, const SecBuffer *extra)
{
    if (extra->BufferType == SECBUFFER_EXTRA && extra->cbBuffer > 0
        && extra->cbBuffer <= s->in_len) {
        memmove(s->in, s->in + (s->in_len - extra->cbBuffer), extra->cbBuffer);
        s->in_len = extra->cbBuffer;
    } else {
        s->in_len = 0;
    }
}

/* One InitializeSecurityContext call over what s->in holds; its token to
 * send in *token. */
static SECURITY_STATUS isc_step(sch_session *s, SecBuffer *token)
{
    SecBuffer in[2], out[1];
    SecBufferDesc in_desc = { SECBUFFER_VERSION, 2, in };
    SecBufferDesc out_desc = { SECBUFFER_VERSION, 1, out };
    ULONG attrs = 0;
    SECURITY_STATUS st;
    int first = !s->have_ctx;
    memset(in, 0, sizeof in);
    in[0].BufferType = SECBUFFER_TOKEN;
    in[0].pvBuffer = s->in;
    in[0].cbBuffer = (unsigned long)s->in_len;
    in[1].BufferType = SECBUFFER_EMPTY;
    out[0].BufferType = SECBUFFER_TOKEN;
    out[0].pvBuffer = NULL;
    out[0].cbBuffer = 0;
    st = InitializeSecurityContextW(s->cred, first ? NULL : &s->ctx,
                                    s->target[0] ? s->target : NULL, ISC_FLAGS, 0, 0,
                                    first ? NULL : &in_desc, 0, &s->ctx, &out_desc, &attrs,
                                    NULL);
    if (first && (st == SEC_E_OK || st == SEC_I_CONTINUE_NEEDED))
        s->have_ctx = 1;
    *token = out[0];
    if (!first && st != SEC_E_INCOMPLETE_MESSAGE)
        keep_extra(s, &in[1]);
    return st;
}

/* Could what s->in starts with be a TLS record? Its content type (change
 * cipher spec to heartbeat), its major version 3 and a length within what
 * TLS allows, as far as they have arrived. Schannel would otherwise wait
 * for the rest of whatever length a server's garbage names (Wine's does),
 * where OpenSSL gives up at once. */
static int record_start_ok(const sch_session *s)
{
    const unsigned char *p = s->in;
    if (s->in_len >= 1 && (p[0] < 20 || p[0] > 24))
        return 0;
    if (s->in_len >= 2 && p[1] != 3)
        return 0;
    return s->in_len < 5 || ((size_t)p[3] << 8 | p[4]) <= 16384 + 2048;
}

/* Room for more input; -1 when the handshake outgrew its bound. */
static int grow_input(sch_session *s)
{
    size_t cap = s->in_cap * 2;
    unsigned char *p;
    if (s->in_len < s->in_cap)
        return 0;
    if (cap > HANDSHAKE_BUFFER_MAX)
        return -1;
    p = realloc(s->in, cap);
    if (!p)
        return -1;
    s->in = p;
    s->in_cap = cap;
    return 0;
}

/* More bytes from the server: NET_OK, NET_TIMEOUT, NET_ERROR (also when it
 * closed, with why). */
static int receive_more(sch_session *s, uint64_t deadline, const char **why)
{
    int n;
    if (grow_input(s) != 0) {
        *why = "the server's handshake messages are too large";
        return NET_ERROR;
    }
    n = net_recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, deadline, NULL, 0);
    if (n > 0) {
        s->in_len += (size_t)n;
        return NET_OK;
    }
    *why = n == 0 ? "the server closed the connection during the handshake"
                  : "the connection failed during the handshake";
    return n == 0 ? NET_ERROR : n;
}

/* Drive InitializeSecurityContext until the handshake is done: the first
 * call when no context exists yet, then a call per input. */
static int run_handshake(sch_session *s, uint64_t deadline, char *err, size_t errlen)
{
    int need_input = s->have_ctx && s->in_len == 0, round;
    for (round = 0; round < HANDSHAKE_ROUNDS_MAX; round++) {
        SecBuffer token;
        SECURITY_STATUS st;
        const char *why = NULL;
        int rc;
        if (need_input && (rc = receive_more(s, deadline, &why)) != NET_OK) {
            snprintf(err, errlen, "%s", rc == NET_TIMEOUT ? "TLS handshake timed out" : why);
            return rc;
        }
        if (!record_start_ok(s)) {
            snprintf(err, errlen, "the server's answer is not a TLS record");
            return NET_ERROR;
        }
        st = isc_step(s, &token);
        rc = send_token(s, &token, deadline);
        if (st == SEC_E_OK)
            return rc;
        if (st != SEC_I_CONTINUE_NEEDED && st != SEC_E_INCOMPLETE_MESSAGE
            && st != SEC_I_INCOMPLETE_CREDENTIALS) {
            describe_status(st, err, errlen);
            return NET_ERROR;
        }
        if (rc != NET_OK) {
            snprintf(err, errlen, "%s", rc == NET_TIMEOUT ? "TLS handshake timed out"
                                                          : "the connection failed during "
                                                            "the handshake");
            return rc;
        }
        /* Incomplete credentials: the server asked for a client
         * certificate; call again and go on without one. */
        need_input = st == SEC_E_INCOMPLETE_MESSAGE
                     || (st == SEC_I_CONTINUE_NEEDED && s->in_len == 0);
    }
    snprintf(err, errlen, "the handshake did not finish in %d rounds", HANDSHAKE_ROUNDS_MAX);
    return NET_ERROR;
}

/* ---- what the handshake gave ----------------------------------------- */

static tls_protocol protocol_of(DWORD bits)
{
    if (bits & SP_PROT_TLS1_3)
        return TLS_PROTO_TLS13;
    if (bits & SP_PROT_TLS1_2)
        return TLS_PROTO_TLS12;
    if (bits & SP_PROT_TLS1_1)
        return TLS_PROTO_TLS11;
    if (bits & SP_PROT_TLS1_0)
        return TLS_PROTO_TLS10;
    if (bits & SP_PROT_SSL3)
        return TLS_PROTO_SSL3;
    return TLS_PROTO_NONE;
}

static int64_t filetime_to_unix(const FILETIME *ft)
{
    ULARGE_INTEGER u;
    u.LowPart = ft->dwLowDateTime;
    u.HighPart = ft->dwHighDateTime;
    /* 100 ns ticks since 1601-01-01; 11644473600 s from there to 1970. */
    return (int64_t)(u.QuadPart / 10000000ULL) - 11644473600LL;
}

/* A name blob in OpenSSL's one-line form ("/C=US/O=.../CN=..."), so the
 * journal reads the same whichever stack decided. */
static void name_text(const CERT_NAME_BLOB *blob, char *buf, size_t len)
{
    const unsigned char *p = blob->pbData;
    X509_NAME *name = d2i_X509_NAME(NULL, &p, (long)blob->cbData);
    buf[0] = '\0';
    if (name)
        X509_NAME_oneline(name, buf, (int)len);
    X509_NAME_free(name);
}

static void record_certificate(PCCERT_CONTEXT cert, tls_info *info)
{
    const CERT_INFO *ci = cert->pCertInfo;
    info->has_cert = 1;
    info->not_before = filetime_to_unix(&ci->NotBefore);
    info->not_after = filetime_to_unix(&ci->NotAfter);
    name_text(&ci->Subject, info->subject, sizeof info->subject);
    name_text(&ci->Issuer, info->issuer, sizeof info->issuer);
}

/* The authentication part of a TLS 1.0-1.2 suite name, from the
 * certificate's key. */
static const char *auth_of(PCCERT_CONTEXT cert)
{
    const char *oid = cert ? cert->pCertInfo->SubjectPublicKeyInfo.Algorithm.pszObjId : NULL;
    if (oid && strcmp(oid, szOID_ECC_PUBLIC_KEY) == 0)
        return "ECDSA";
    if (oid && strcmp(oid, szOID_X957_DSA) == 0)
        return "DSS";
    return "RSA";
}

/* The key exchange and authentication part ("ECDHE_RSA", "RSA"). */
static int kx_part(ALG_ID exch, PCCERT_CONTEXT cert, char *buf, size_t len)
{
    if (exch == CALG_ECDH_EPHEM || exch == CALG_ECDH)
        snprintf(buf, len, "ECDHE_%s", auth_of(cert));
    else if (exch == CALG_DH_EPHEM)
        snprintf(buf, len, "DHE_%s", auth_of(cert));
    else if (exch == CALG_RSA_KEYX)
        snprintf(buf, len, "RSA");
    else
        return -1;
    return 0;
}

/* The cipher and MAC part ("AES_128_GCM_SHA256", "AES_256_CBC_SHA"). An
 * AEAD cipher reports no MAC strength (and the PRF hash, or none, as its
 * hash). */
static int cipher_part(const SecPkgContext_ConnectionInfo *ci, char *buf, size_t len)
{
    const char *cipher, *mac;
    int aead = ci->dwHashStrength == 0;
    switch (ci->aiCipher) {
    case CALG_AES_128: cipher = "AES_128"; break;
    case CALG_AES_256: cipher = "AES_256"; break;
    case CALG_3DES: cipher = "3DES_EDE"; break;
    case CALG_RC4: cipher = "RC4_128"; break;
    default: return -1;
    }
    switch (ci->aiHash) {
    case CALG_SHA1: mac = "SHA"; break;
    case CALG_MD5: mac = "MD5"; break;
    case CALG_SHA_256: mac = "SHA256"; break;
    case CALG_SHA_384: mac = "SHA384"; break;
    case 0: mac = ci->aiCipher == CALG_AES_256 ? "SHA384" : "SHA256"; break;
    default: return -1;
    }
    if (ci->aiCipher == CALG_RC4)
        snprintf(buf, len, "%s_%s", cipher, mac);
    else
        snprintf(buf, len, "%s_%s_%s", cipher, aead ? "GCM" : "CBC", mac);
    return 0;
}

/* The suite from the connection info, where Schannel's cipher info names
 * none we know (Wine 8 gives no code, and "<unknown>" for the MAC of an
 * AEAD suite): "" when the parts do not name a suite we know. */
static void suite_from_connection(const SecPkgContext_ConnectionInfo *ci,
                                  PCCERT_CONTEXT cert, char *buf, size_t len)
{
    char kx[32], cipher[40], name[96];
    buf[0] = '\0';
    if (protocol_of(ci->dwProtocol) == TLS_PROTO_TLS13) {
        snprintf(name, sizeof name, "TLS_%s_GCM_%s",
                 ci->aiCipher == CALG_AES_256 ? "AES_256" : "AES_128",
                 ci->aiCipher == CALG_AES_256 ? "SHA384" : "SHA256");
    } else if (kx_part(ci->aiExch, cert, kx, sizeof kx) != 0
               || cipher_part(ci, cipher, sizeof cipher) != 0) {
        return;
    } else {
        snprintf(name, sizeof name, "TLS_%s_WITH_%s", kx, cipher);
    }
    if (tls_suite_code(name) >= 0)
        snprintf(buf, len, "%s", name);
}

/* What SECPKG_ATTR_CIPHER_INFO says: the suite's IANA code (0 when not
 * told: Wine) and Schannel's own name for it, without the curve older
 * Windows appends ("_P256"). -1 when the attribute is not there. */
static int cipher_info(sch_session *s, unsigned *code, char *name, size_t len)
{
    SecPkgContext_CipherInfo info;
    char *curve;
    memset(&info, 0, sizeof info);
    info.dwVersion = SECPKGCONTEXT_CIPHERINFO_V1;
    if (QueryContextAttributesW(&s->ctx, SECPKG_ATTR_CIPHER_INFO, &info) != SEC_E_OK)
        return -1;
    *code = info.dwCipherSuite & 0xFFFF;
    if (WideCharToMultiByte(CP_UTF8, 0, info.szCipherSuite, -1, name, (int)len, NULL, NULL)
        == 0)
        name[0] = '\0';
    curve = strstr(name, "_P");
    if (curve && (strcmp(curve, "_P256") == 0 || strcmp(curve, "_P384") == 0
                  || strcmp(curve, "_P521") == 0))
        *curve = '\0';
    return 0;
}

/* The suite's IANA name: from its code, else from Schannel's name when that
 * is one we know, else from the connection info; a suite we do not know
 * keeps Schannel's name when it looks like one. */
static void record_suite(sch_session *s, const SecPkgContext_ConnectionInfo *ci,
                         PCCERT_CONTEXT cert, char *buf, size_t len)
{
    char own[SZ_ALG_MAX_SIZE * 2] = "";
    unsigned code = 0;
    int told = cipher_info(s, &code, own, sizeof own) == 0;
    if (told && tls_suite_name(code)) {
        snprintf(buf, len, "%s", tls_suite_name(code));
        return;
    }
    if (told && tls_suite_code(own) >= 0) {
        snprintf(buf, len, "%s", own);
        return;
    }
    suite_from_connection(ci, cert, buf, len);
    if (!buf[0] && told && strncmp(own, "TLS_", 4) == 0 && !strchr(own, '<'))
        snprintf(buf, len, "%s", own);
}

static void record_session(sch_session *s, tls_info *info)
{
    SecPkgContext_ConnectionInfo ci;
    PCCERT_CONTEXT cert = NULL;
    memset(&ci, 0, sizeof ci);
    if (QueryContextAttributesW(&s->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &cert) == SEC_E_OK
        && cert)
        record_certificate(cert, info);
    if (QueryContextAttributesW(&s->ctx, SECPKG_ATTR_CONNECTION_INFO, &ci) == SEC_E_OK)
        info->protocol = protocol_of(ci.dwProtocol);
    record_suite(s, &ci, cert, info->suite, sizeof info->suite);
    if (cert)
        CertFreeCertificateContext(cert);
}

/* Buffers for records once the sizes are known. */
static int prepare_records(sch_session *s)
{
    size_t record;
    unsigned char *p;
    if (QueryContextAttributesW(&s->ctx, SECPKG_ATTR_STREAM_SIZES, &s->sizes) != SEC_E_OK)
        return -1;
    record = (size_t)s->sizes.cbHeader + s->sizes.cbMaximumMessage + s->sizes.cbTrailer;
    if (s->in_cap < record) {
        p = realloc(s->in, record);
        if (!p)
            return -1;
        s->in = p;
        s->in_cap = record;
    }
    s->plain = malloc(s->sizes.cbMaximumMessage);
    s->out = malloc(record);
    return s->plain && s->out ? 0 : -1;
}

static int sch_handshake(void *session, uint64_t deadline, tls_info *info)
{
    sch_session *s = session;
    int rc = run_handshake(s, deadline, info->error, sizeof info->error);
    if (rc != NET_OK)
        return rc;
    if (prepare_records(s) != 0) {
        snprintf(info->error, sizeof info->error, "out of memory");
        return NET_ERROR;
    }
    record_session(s, info);
    return NET_OK;
}

/* ---- records ---------------------------------------------------------- */

static SecBuffer *find_buffer(SecBuffer *b, size_t n, unsigned long type)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (b[i].BufferType == type)
            return &b[i];
    return NULL;
}

/* Decrypt one record of s->in into s->plain: SEC_E_OK, SEC_E_INCOMPLETE_MESSAGE
 * (read more), SEC_I_CONTEXT_EXPIRED (close_notify), SEC_I_RENEGOTIATE, or
 * a failure. */
static SECURITY_STATUS decrypt_one(sch_session *s)
{
    SecBuffer b[4], *data, *extra;
    SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
    SECURITY_STATUS st;
    memset(b, 0, sizeof b);
    b[0].BufferType = SECBUFFER_DATA;
    b[0].pvBuffer = s->in;
    b[0].cbBuffer = (unsigned long)s->in_len;
    b[1].BufferType = b[2].BufferType = b[3].BufferType = SECBUFFER_EMPTY;
    st = DecryptMessage(&s->ctx, &desc, 0, NULL);
    if (st != SEC_E_OK && st != SEC_I_RENEGOTIATE && st != SEC_I_CONTEXT_EXPIRED)
        return st;
    data = find_buffer(b, 4, SECBUFFER_DATA);
    if (data && data->cbBuffer > 0 && data->cbBuffer <= s->sizes.cbMaximumMessage) {
        memcpy(s->plain, data->pvBuffer, data->cbBuffer);
        s->plain_off = 0;
        s->plain_len = data->cbBuffer;
    }
    extra = find_buffer(b, 4, SECBUFFER_EXTRA);
    if (extra)
        keep_extra(s, extra);
    else
        s->in_len = 0;
    return st;
}

static int sch_read(void *session, void *buf, size_t cap, uint64_t deadline)
{
    sch_session *s = session;
    char err[TLS_TEXT_MAX];
    for (;;) {
        SECURITY_STATUS st = SEC_E_INCOMPLETE_MESSAGE;
        int n;
        if (s->plain_len > 0) {
            size_t take = s->plain_len < cap ? s->plain_len : cap;
            memcpy(buf, s->plain + s->plain_off, take);
            s->plain_off += take;
            s->plain_len -= take;
            return (int)take;
        }
        if (s->peer_closed)
            return 0;
        if (s->in_len > 0)
            st = decrypt_one(s);
        if (st == SEC_I_CONTEXT_EXPIRED) {
            s->peer_closed = 1;
            continue;
        }
        /* A post-handshake message (a TLS 1.3 ticket, a renegotiation):
         * Schannel wants it through InitializeSecurityContext. */
        if (st == SEC_I_RENEGOTIATE) {
            if (run_handshake(s, deadline, err, sizeof err) != NET_OK)
                return NET_ERROR;
            continue;
        }
        if (st == SEC_E_OK)
            continue;
        if (st != SEC_E_INCOMPLETE_MESSAGE || s->in_len == s->in_cap)
            return NET_ERROR;
        n = net_recv(s->fd, s->in + s->in_len, s->in_cap - s->in_len, deadline, NULL, 0);
        if (n <= 0)
            return n;
        s->in_len += (size_t)n;
    }
}

static int sch_write(void *session, const void *buf, size_t len, uint64_t deadline)
{
    sch_session *s = session;
    const unsigned char *p = buf;
    while (len > 0) {
        size_t chunk = len < s->sizes.cbMaximumMessage ? len : s->sizes.cbMaximumMessage;
        SecBuffer b[4];
        SecBufferDesc desc = { SECBUFFER_VERSION, 4, b };
        int rc;
        memset(b, 0, sizeof b);
        memcpy(s->out + s->sizes.cbHeader, p, chunk);
        b[0].BufferType = SECBUFFER_STREAM_HEADER;
        b[0].pvBuffer = s->out;
        b[0].cbBuffer = s->sizes.cbHeader;
        b[1].BufferType = SECBUFFER_DATA;
        b[1].pvBuffer = s->out + s->sizes.cbHeader;
        b[1].cbBuffer = (unsigned long)chunk;
        b[2].BufferType = SECBUFFER_STREAM_TRAILER;
        b[2].pvBuffer = s->out + s->sizes.cbHeader + chunk;
        b[2].cbBuffer = s->sizes.cbTrailer;
        b[3].BufferType = SECBUFFER_EMPTY;
        if (EncryptMessage(&s->ctx, 0, &desc, 0) != SEC_E_OK)
            return NET_ERROR;
        rc = net_send_all(s->fd, s->out, (size_t)b[0].cbBuffer + b[1].cbBuffer + b[2].cbBuffer,
                          deadline, NULL, 0);
        if (rc != NET_OK)
            return rc;
        p += chunk;
        len -= chunk;
    }
    return NET_OK;
}

/* ---- the presented chain ---------------------------------------------- */

/* The leaf, then the other certificates the server sent (Schannel keeps
 * them in the leaf's store). */
static void read_chain(sch_session *s)
{
    PCCERT_CONTEXT leaf = NULL, c = NULL;
    s->chain_read = 1;
    if (QueryContextAttributesW(&s->ctx, SECPKG_ATTR_REMOTE_CERT_CONTEXT, &leaf) != SEC_E_OK
        || !leaf)
        return;
    s->chain[s->nchain++] = leaf;
    while (leaf->hCertStore && s->nchain < TLS_CHAIN_MAX
           && (c = CertEnumCertificatesInStore(leaf->hCertStore, c)) != NULL) {
        if (!CertCompareCertificate(X509_ASN_ENCODING, c->pCertInfo, leaf->pCertInfo))
            s->chain[s->nchain++] = CertDuplicateCertificateContext(c);
    }
    if (c)
        CertFreeCertificateContext(c);
}

static size_t sch_peer_chain(void *session, tls_der *chain, size_t max)
{
    sch_session *s = session;
    size_t i;
    if (!s->have_ctx)
        return 0;
    if (!s->chain_read)
        read_chain(s);
    for (i = 0; i < s->nchain && i < max; i++) {
        chain[i].der = s->chain[i]->pbCertEncoded;
        chain[i].len = s->chain[i]->cbCertEncoded;
    }
    return i;
}

static void sch_session_close(void *session)
{
    sch_session *s = session;
    size_t i;
    for (i = 0; i < s->nchain; i++)
        CertFreeCertificateContext(s->chain[i]);
    if (s->have_ctx)
        DeleteSecurityContext(&s->ctx);
    free(s->in);
    free(s->plain);
    free(s->out);
    free(s);
}

const tls_backend tls_schannel_backend = {
    TLS_STACK_SCHANNEL, sch_client_new, sch_client_free, sch_session_start, sch_handshake,
    sch_read,           sch_write,      sch_peer_chain,  sch_session_close,
};
