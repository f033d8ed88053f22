/* mgr_probe: "Test a domain" through the core probe. */
#include "mgr_data.h"

#include <stdio.h>

int mgr_probe_domain(const char *db_path, const char *domain, char **report,
                     char *err, size_t errlen)
{
    (void)db_path;
    (void)domain;
    *report = NULL;
    snprintf(err, errlen, "This build of the manager cannot test domains yet.");
    return -1;
}
