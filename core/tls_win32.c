/* tls, Windows side: the system's stack is Schannel (IIS SMTP delivers
 * through it), and a server's chain is judged by the Windows chain engine
 * with the SSL policy, as every Windows program's is: intermediates from
 * the CA store, roots fetched on demand (Automatic Root Certificates
 * Update) and the Disallowed store all count, which a copy of the ROOT
 * store in OpenSSL could not do.
 *
 * A PEM file of trust anchors (the tests' CA) becomes an engine of its
 * own whose exclusive roots are that file's certificates. */
#define CERT_CHAIN_PARA_HAS_EXTRA_FIELDS
#include <windows.h>
#include <wincrypt.h>
#include <wininet.h> /* the SECURITY_FLAG_IGNORE_* checks of the SSL policy */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#include "tls_backend.h"

const tls_backend *tls_system_backend(void) { return &tls_schannel_backend; }

struct tls_trust {
    HCERTCHAINENGINE engine; /* NULL: the system's (the current user's) */
    HCERTSTORE anchors;      /* the PEM file's certificates, or NULL */
};

/* The certificates of a PEM file into a memory store; their count. */
static int read_anchors(const char *path, HCERTSTORE store)
{
    BIO *bio = BIO_new_file(path, "r");
    X509 *x;
    int count = 0;
    if (!bio)
        return 0;
    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der);
        if (len > 0 && CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, der,
                                                        (DWORD)len, CERT_STORE_ADD_ALWAYS,
                                                        NULL))
            count++;
        OPENSSL_free(der);
        X509_free(x);
    }
    BIO_free(bio);
    ERR_clear_error();
    return count;
}

tls_trust *tls_trust_new(const char *ca_file, char *err, size_t errlen)
{
    CERT_CHAIN_ENGINE_CONFIG config;
    tls_trust *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (!ca_file || !*ca_file)
        return t;
    t->anchors = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG, NULL);
    if (!t->anchors || read_anchors(ca_file, t->anchors) == 0) {
        snprintf(err, errlen, "could not load trust anchors from %s", ca_file);
        tls_trust_free(t);
        return NULL;
    }
    memset(&config, 0, sizeof config);
    config.cbSize = sizeof config;
    config.hExclusiveRoot = t->anchors;
    if (!CertCreateCertificateChainEngine(&config, &t->engine)) {
        snprintf(err, errlen, "the chain engine refused the trust anchors of %s (%lu)", ca_file,
                 (unsigned long)GetLastError());
        t->engine = NULL;
        tls_trust_free(t);
        return NULL;
    }
    return t;
}

void tls_trust_free(tls_trust *t)
{
    if (!t)
        return;
    if (t->engine)
        CertFreeCertificateChainEngine(t->engine);
    if (t->anchors)
        CertCloseStore(t->anchors, 0);
    free(t);
}

/* The presented chain in a memory store; its leaf in *leaf. */
static HCERTSTORE presented_store(const tls_der *chain, size_t n, PCCERT_CONTEXT *leaf)
{
    HCERTSTORE store = CertOpenStore(CERT_STORE_PROV_MEMORY, 0, 0, CERT_STORE_CREATE_NEW_FLAG,
                                     NULL);
    size_t i;
    *leaf = NULL;
    if (!store)
        return NULL;
    for (i = 0; i < n; i++)
        CertAddEncodedCertificateToStore(store, X509_ASN_ENCODING, chain[i].der,
                                         (DWORD)chain[i].len, CERT_STORE_ADD_ALWAYS,
                                         i == 0 ? leaf : NULL);
    if (!*leaf) {
        CertCloseStore(store, 0);
        return NULL;
    }
    return store;
}

static PCCERT_CHAIN_CONTEXT build_chain(const tls_trust *t, PCCERT_CONTEXT leaf,
                                        HCERTSTORE presented, uint64_t deadline)
{
    static LPSTR server_auth[] = { (LPSTR)szOID_PKIX_KP_SERVER_AUTH };
    CERT_CHAIN_PARA para;
    PCCERT_CHAIN_CONTEXT chain = NULL;
    int left = net_remaining_ms(deadline);
    memset(&para, 0, sizeof para);
    para.cbSize = sizeof para;
    para.RequestedUsage.dwType = USAGE_MATCH_TYPE_AND;
    para.RequestedUsage.Usage.cUsageIdentifier = 1;
    para.RequestedUsage.Usage.rgpszUsageIdentifier = server_auth;
    para.dwUrlRetrievalTimeout = (DWORD)(left > 0 ? left : 1);
    if (!CertGetCertificateChain(t ? t->engine : NULL, leaf, NULL, presented, &para, 0, NULL,
                                 &chain))
        return NULL;
    return chain;
}

static const char *policy_text(DWORD e)
{
    switch (e) {
    case CERT_E_UNTRUSTEDROOT: return "the chain ends in a root that is not trusted";
    case CERT_E_CHAINING: return "no chain to a trusted root could be built";
    case CERT_E_EXPIRED: return "a certificate of the chain is out of its validity period";
    case CERT_E_VALIDITYPERIODNESTING: return "the validity periods of the chain do not nest";
    case CERT_E_WRONG_USAGE: return "a certificate is not meant for server authentication";
    case CERT_E_CN_NO_MATCH: return "the certificate is not valid for the host name";
    case TRUST_E_CERT_SIGNATURE: return "a signature of the chain is invalid";
    case TRUST_E_EXPLICIT_DISTRUST: return "a certificate of the chain is in the Disallowed store";
    case CRYPT_E_REVOKED: return "a certificate of the chain is revoked";
    case TRUST_E_BASIC_CONSTRAINTS: return "an issuer of the chain is not a CA";
    default: return NULL;
    }
}

/* CertVerifyCertificateChainPolicy with the SSL policy, asking only what
 * checks says. */
static DWORD ssl_policy(PCCERT_CHAIN_CONTEXT chain, unsigned checks, const wchar_t *host)
{
    HTTPSPolicyCallbackData ssl;
    CERT_CHAIN_POLICY_PARA para;
    CERT_CHAIN_POLICY_STATUS status;
    memset(&ssl, 0, sizeof ssl);
    memset(&para, 0, sizeof para);
    memset(&status, 0, sizeof status);
    ssl.cbStruct = sizeof ssl;
    ssl.dwAuthType = AUTHTYPE_SERVER;
    ssl.pwszServerName = (checks & TLS_CHECK_NAME) ? (wchar_t *)host : NULL;
    para.cbSize = sizeof para;
    para.pvExtraPolicyPara = &ssl;
    status.cbSize = sizeof status;
    if (!(checks & TLS_CHECK_TIME)) {
        ssl.fdwChecks |= SECURITY_FLAG_IGNORE_CERT_DATE_INVALID;
        para.dwFlags |= CERT_CHAIN_POLICY_IGNORE_ALL_NOT_TIME_VALID_FLAGS;
    }
    if (!(checks & TLS_CHECK_CHAIN)) {
        ssl.fdwChecks |= SECURITY_FLAG_IGNORE_UNKNOWN_CA | SECURITY_FLAG_IGNORE_WRONG_USAGE;
        para.dwFlags |= CERT_CHAIN_POLICY_ALLOW_UNKNOWN_CA_FLAG
                        | CERT_CHAIN_POLICY_IGNORE_WRONG_USAGE_FLAG;
    }
    if (!CertVerifyCertificateChainPolicy(CERT_CHAIN_POLICY_SSL, chain, &para, &status))
        return (DWORD)CERT_E_CHAINING;
    return status.dwError;
}

static tls_verdict verdict_of(DWORD e, unsigned checks, const char *host, char *why,
                              size_t whylen)
{
    const char *text = policy_text(e);
    if (e == 0)
        return TLS_VERIFY_OK;
    if (e == (DWORD)CERT_E_CN_NO_MATCH) {
        snprintf(why, whylen, "hostname mismatch: the certificate is not valid for %s", host);
        return TLS_VERIFY_NAME_MISMATCH;
    }
    /* Time is the caller's to judge unless asked. */
    if (!(checks & TLS_CHECK_TIME)
        && (e == (DWORD)CERT_E_EXPIRED || e == (DWORD)CERT_E_VALIDITYPERIODNESTING))
        return TLS_VERIFY_OK;
    if (text)
        snprintf(why, whylen, "%s", text);
    else
        snprintf(why, whylen, "the chain engine refused the chain (0x%08lx)", (unsigned long)e);
    return TLS_VERIFY_UNTRUSTED;
}

/* What the engine itself found wrong with the chain that no policy flag
 * excuses: the policy's verdict alone is not enough, since a policy may
 * not look at every bit (Wine's passes a chain that reaches no root). */
static const char *engine_error(PCCERT_CHAIN_CONTEXT chain)
{
    DWORD e = chain->TrustStatus.dwErrorStatus;
    if (e & CERT_TRUST_IS_PARTIAL_CHAIN)
        return "no chain to a trusted root could be built";
    if (e & CERT_TRUST_IS_UNTRUSTED_ROOT)
        return "the chain ends in a root that is not trusted";
    if (e & CERT_TRUST_IS_NOT_SIGNATURE_VALID)
        return "a signature of the chain is invalid";
    if (e & CERT_TRUST_IS_EXPLICIT_DISTRUST)
        return "a certificate of the chain is in the Disallowed store";
    if (e & CERT_TRUST_IS_REVOKED)
        return "a certificate of the chain is revoked";
    if (e & CERT_TRUST_IS_CYCLIC)
        return "the chain is cyclic";
    return NULL;
}

/* The policy's verdict, then the engine's when chains are checked. */
static tls_verdict judge_chain(PCCERT_CHAIN_CONTEXT built, unsigned checks, const char *host,
                               const wchar_t *whost, char *why, size_t whylen)
{
    tls_verdict v = verdict_of(ssl_policy(built, checks, whost), checks, host, why, whylen);
    const char *e = (checks & TLS_CHECK_CHAIN) ? engine_error(built) : NULL;
    if (v == TLS_VERIFY_OK && e) {
        snprintf(why, whylen, "%s", e);
        v = TLS_VERIFY_UNTRUSTED;
    }
    return v;
}

tls_verdict tls_trust_check(const tls_trust *t, const tls_der *chain, size_t n,
                            unsigned checks, const char *host, uint64_t deadline, char *why,
                            size_t whylen)
{
    wchar_t whost[256] = L"";
    PCCERT_CONTEXT leaf;
    PCCERT_CHAIN_CONTEXT built;
    HCERTSTORE presented = presented_store(chain, n, &leaf);
    tls_verdict v;
    if (!presented) {
        snprintf(why, whylen, "the server's certificate could not be decoded");
        return TLS_VERIFY_ERROR;
    }
    if (host && MultiByteToWideChar(CP_UTF8, 0, host, -1, whost, 256) == 0)
        whost[0] = L'\0';
    built = build_chain((checks & TLS_CHECK_CHAIN) ? t : NULL, leaf, presented, deadline);
    if (!built) {
        snprintf(why, whylen, "no chain could be built (%lu)", (unsigned long)GetLastError());
        v = TLS_VERIFY_ERROR;
    } else {
        v = judge_chain(built, checks, host, whost, why, whylen);
        CertFreeCertificateChain(built);
    }
    CertFreeCertificateContext(leaf);
    CertCloseStore(presented, 0);
    return v;
}
