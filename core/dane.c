/* dane: RFC 7672 applicability from a TLSA answer (see dane.h). */
#include "dane.h"

#include <stdio.h>
#include <string.h>

#include "domain.h"

enum { USAGE_DANE_TA = 2, USAGE_DANE_EE = 3 };

int dane_record_usable(const dns_tlsa *r)
{
    if (r->usage != USAGE_DANE_TA && r->usage != USAGE_DANE_EE)
        return 0;
    if (r->selector > 1)
        return 0;
    switch (r->mtype) {
    case 0: return r->len > 0;
    case 1: return r->len == 32;
    case 2: return r->len == 64;
    default: return 0;
    }
}

void dane_judge(const dns_tlsa_list *answer, int mx_validated, dane_result *out)
{
    memset(out, 0, sizeof *out);
    out->status = answer->status;
    out->mx_validated = mx_validated != 0;
    if (answer->status != DNS_OK) {
        snprintf(out->detail, sizeof out->detail, "no TLSA records (%s)",
                 dns_status_name(answer->status));
        return;
    }
    out->validated = answer->ad != 0;
    out->records = answer->count;
    for (size_t i = 0; i < answer->count; i++)
        out->usable += (size_t)dane_record_usable(&answer->records[i]);
    out->applies = out->mx_validated && out->validated && out->usable > 0;
    if (out->applies)
        snprintf(out->detail, sizeof out->detail,
                 "DNSSEC-validated TLSA: %lu of %lu records usable",
                 (unsigned long)out->usable, (unsigned long)out->records);
    else if (!out->validated)
        snprintf(out->detail, sizeof out->detail,
                 "TLSA records without DNSSEC validation (AD bit clear): ignored");
    else if (dane_only_mx_insecure(out))
        snprintf(out->detail, sizeof out->detail,
                 "DNSSEC-validated TLSA, but the MX records are not validated (AD bit "
                 "clear): DANE does not apply");
    else
        snprintf(out->detail, sizeof out->detail,
                 "DNSSEC-validated TLSA, but none of %lu records usable for SMTP",
                 (unsigned long)out->records);
}

int dane_only_mx_insecure(const dane_result *r)
{
    return !r->mx_validated && r->validated && r->usable > 0;
}

int dane_check(const char *dns_servers, const char *mx_host, int mx_validated, unsigned port,
               uint64_t deadline_ms, dane_result *out)
{
    char name[DOMAIN_BUF + 16];
    dns_tlsa_list answer;
    snprintf(name, sizeof name, "_%u._tcp.%s", port, mx_host);
    dns_lookup_tlsa(dns_servers, name, deadline_ms, &answer);
    dane_judge(&answer, mx_validated, out);
    if (answer.status != DNS_OK && answer.error[0])
        snprintf(out->detail, sizeof out->detail, "%s", answer.error);
    dns_tlsa_free(&answer);
    return out->applies;
}
