/* dane: does DANE for SMTP (RFC 7672) apply to an MX host?
 *
 * It applies when the domain's MX RRset and the TLSA records at
 * _25._tcp.<mx> were both validated with DNSSEC (the resolver set the AD
 * bit on each answer; RFC 7672 2.2: an MX host learnt from an insecure MX
 * RRset could be an attacker's, so its TLSA records prove nothing) and at
 * least one TLSA record is usable for SMTP. Such a host has declared that it must be reached over TLS, so a
 * plain route would be a downgrade. Usable for SMTP (RFC 7672 3.1): usage
 * DANE-TA(2) or DANE-EE(3) (PKIX-TA/PKIX-EE are not used with SMTP),
 * selector Cert(0) or SPKI(1), matching type Full(0) with data,
 * SHA2-256(1) with 32 bytes or SHA2-512(2) with 64 bytes. */
#ifndef TR_DANE_H
#define TR_DANE_H

#include <stddef.h>
#include <stdint.h>

#include "dns.h"

typedef struct {
    int applies;        /* MX and TLSA validated, at least one usable record */
    int mx_validated;   /* the AD bit was set on the MX answer */
    int validated;      /* the AD bit was set on the TLSA answer */
    size_t records;     /* TLSA records in the answer */
    size_t usable;      /* of which usable for SMTP */
    dns_status status;  /* the look-up's outcome */
    char detail[DNS_ERR_MAX]; /* one sentence for the journal */
} dane_result;

int dane_record_usable(const dns_tlsa *r);

/* Judge a TLSA answer already looked up; mx_validated: the AD bit of the
 * MX answer that named the host (dns_mx_list.ad). */
void dane_judge(const dns_tlsa_list *answer, int mx_validated, dane_result *out);

/* Would the TLSA records apply if the MX RRset were validated too? For
 * telling the admin why DANE does not apply. */
int dane_only_mx_insecure(const dane_result *r);

/* Look up _<port>._tcp.<mx_host> TLSA by deadline_ms and judge it.
 * mx_validated as for dane_judge. Returns out->applies. */
int dane_check(const char *dns_servers, const char *mx_host, int mx_validated, unsigned port,
               uint64_t deadline_ms, dane_result *out);

#endif
