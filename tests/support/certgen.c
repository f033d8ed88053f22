/* certgen: X.509 certificates for the test peers (see certgen.h). */
#include "certgen.h"

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return 0;
}

static int random_serial(X509 *cert)
{
    unsigned char bytes[8];
    BIGNUM *bn;
    int ok;
    if (RAND_bytes(bytes, sizeof bytes) != 1)
        return -1;
    bytes[0] &= 0x7f;
    bn = BN_bin2bn(bytes, sizeof bytes, NULL);
    ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
    BN_free(bn);
    return ok ? 0 : -1;
}

/* A UTCTime holding text verbatim: the DER stays well formed whatever the
 * text says, so a peer can serve a time nobody can read. */
static int set_raw_utctime(ASN1_TIME *t, const char *text)
{
    if (ASN1_STRING_set(t, text, (int)strlen(text)) != 1)
        return -1;
    t->type = V_ASN1_UTCTIME;
    return 0;
}

/* Either validity time given as raw text (NULL: now + from_s / until_s). */
typedef struct {
    const char *not_before, *not_after;
} raw_times;

static int set_time(ASN1_TIME *t, long offset_s, const char *raw)
{
    if (raw)
        return set_raw_utctime(t, raw);
    return X509_gmtime_adj(t, offset_s) ? 0 : -1;
}

/* 1 when both halves of the certificate's P-256 signature fill their 32
 * bytes. Wine's crypt32 verifies an ECDSA signature whose r or s is shorter
 * (about 1 signature in 128) as invalid, although it is valid and Windows
 * accepts it; the chain tests under Wine would then fail at random. */
static int signature_full_width(const X509 *cert)
{
    const ASN1_BIT_STRING *sig;
    const X509_ALGOR *alg;
    const BIGNUM *r, *s;
    X509_get0_signature(&sig, &alg, cert);
    const unsigned char *der = ASN1_STRING_get0_data(sig);
    ECDSA_SIG *ecdsa = d2i_ECDSA_SIG(NULL, &der, ASN1_STRING_length(sig));
    int full;
    if (!ecdsa)
        return 0;
    ECDSA_SIG_get0(ecdsa, &r, &s);
    full = BN_num_bytes(r) == 32 && BN_num_bytes(s) == 32;
    ECDSA_SIG_free(ecdsa);
    return full;
}

/* ECDSA signing is randomised: signing again gives another r and s. */
static int sign_full_width(X509 *cert, EVP_PKEY *key)
{
    for (int attempt = 0; attempt < 64; attempt++)
        if (X509_sign(cert, key, EVP_sha256()) > 0 && signature_full_width(cert))
            return 1;
    return 0;
}

static int build(const char *name, long from_s, long until_s, const raw_times *raw,
                 int is_ca, const certgen_pair *issuer, certgen_pair *out)
{
    char san[300];
    X509 *cert = X509_new();
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509_NAME *subject;
    int ok = cert && key;

    memset(out, 0, sizeof *out);
    ok = ok && X509_set_version(cert, 2) == 1 && random_serial(cert) == 0;
    ok = ok && set_time(X509_getm_notBefore(cert), from_s, raw ? raw->not_before : NULL) == 0;
    ok = ok && set_time(X509_getm_notAfter(cert), until_s, raw ? raw->not_after : NULL) == 0;
    ok = ok && X509_set_pubkey(cert, key) == 1;
    subject = X509_get_subject_name(cert);
    ok = ok && X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                                          (const unsigned char *)name, -1, -1, 0) == 1;
    ok = ok && X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer->cert)
                                                 : subject) == 1;
    if (ok && is_ca) {
        ok = add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") == 0
             && add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign") == 0;
    } else if (ok) {
        snprintf(san, sizeof san, "DNS:%s", name);
        ok = add_ext(cert, issuer ? issuer->cert : cert, NID_subject_alt_name, san) == 0;
    }
    ok = ok && sign_full_width(cert, issuer ? issuer->key : key);
    if (!ok) {
        X509_free(cert);
        EVP_PKEY_free(key);
        return -1;
    }
    out->cert = cert;
    out->key = key;
    return 0;
}

int certgen_make(const char *dns_name, long from_s, long until_s,
                 const certgen_pair *issuer, certgen_pair *out)
{
    return build(dns_name, from_s, until_s, NULL, 0, issuer, out);
}

int certgen_make_raw_times(const char *dns_name, const char *not_before,
                           const char *not_after, certgen_pair *out)
{
    raw_times raw = { not_before, not_after };
    return build(dns_name, -3600, 30L * 86400, &raw, 0, NULL, out);
}

int certgen_make_ca(const char *name, certgen_pair *out)
{
    return build(name, -86400, 86400, NULL, 1, NULL, out);
}

int certgen_make_intermediate(const char *name, const certgen_pair *issuer, certgen_pair *out)
{
    return build(name, -86400, 86400, NULL, 1, issuer, out);
}

int certgen_write_pem(const certgen_pair *pair, const char *path)
{
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f)
        return -1;
    ok = PEM_write_X509(f, pair->cert) == 1;
    return fclose(f) == 0 && ok ? 0 : -1;
}

void certgen_free(certgen_pair *pair)
{
    X509_free(pair->cert);
    EVP_PKEY_free(pair->key);
    pair->cert = NULL;
    pair->key = NULL;
}
