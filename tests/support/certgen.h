/* certgen: certificates made at test time (EC P-256, fast), in memory. */
#ifndef TR_CERTGEN_H
#define TR_CERTGEN_H

#include <openssl/evp.h>
#include <openssl/x509.h>

typedef struct {
    X509 *cert;
    EVP_PKEY *key;
} certgen_pair;

/* A certificate for dns_name (CN and subjectAltName), valid from now +
 * from_s to now + until_s (seconds, negative for the past). Signed by
 * issuer when given, else self-signed. 0 on success. */
int certgen_make(const char *dns_name, long from_s, long until_s,
                 const certgen_pair *issuer, certgen_pair *out);
/* A self-signed certificate for dns_name whose notBefore and notAfter,
 * when given, are UTCTimes carrying the text as it is (NULL: an hour ago,
 * 30 days ahead). "491332000000Z" (month 13) is well-formed DER that
 * OpenSSL decodes and cannot turn into a date: a certificate time that
 * cannot be read. (A certificate not valid yet needs no special call:
 * certgen_make with from_s > 0.) */
int certgen_make_raw_times(const char *dns_name, const char *not_before,
                           const char *not_after, certgen_pair *out);
/* A CA certificate (basicConstraints CA:TRUE) valid for a day either side. */
int certgen_make_ca(const char *name, certgen_pair *out);
/* The same, issued by issuer: an intermediate CA. */
int certgen_make_intermediate(const char *name, const certgen_pair *issuer, certgen_pair *out);
/* Write the certificate as PEM to path. 0 on success. */
int certgen_write_pem(const certgen_pair *pair, const char *path);
void certgen_free(certgen_pair *pair);

#endif
