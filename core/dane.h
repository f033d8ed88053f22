/* dane: does DANE for SMTP (RFC 7672) apply to an MX host?
 *
 * It applies when the TLSA records at _25._tcp.<mx> were validated with
 * DNSSEC (the resolver set the AD bit) and at least one of them is usable
 * for SMTP. Such a host has declared that it must be reached over TLS, so a
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
    int applies;        /* validated and at least one usable record */
    int validated;      /* the AD bit was set on the answer */
    size_t records;     /* TLSA records in the answer */
    size_t usable;      /* of which usable for SMTP */
    dns_status status;  /* the look-up's outcome */
    char detail[DNS_ERR_MAX]; /* one sentence for the journal */
} dane_result;

int dane_record_usable(const dns_tlsa *r);

/* Judge an answer already looked up. */
void dane_judge(const dns_tlsa_list *answer, dane_result *out);

/* Look up _<port>._tcp.<mx_host> TLSA by deadline_ms and judge it. Returns
 * out->applies. */
int dane_check(const char *dns_servers, const char *mx_host, unsigned port,
               uint64_t deadline_ms, dane_result *out);

#endif
