/* iis_source (POSIX): there is no IIS here, so a virtual server's Pickup
 * folder is never known and no destination is refused for it. */
#include "cli.h"

int cli_source_pickup(int instance, char *buf, size_t len)
{
    (void)instance;
    (void)buf;
    (void)len;
    return -1;
}
