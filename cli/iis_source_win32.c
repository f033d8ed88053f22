/* iis_source (Windows): a virtual server's Pickup folder as IIS reports it
 * through ADSI, read by the manager's own reader (manager/iis.c). */
#include "cli.h"
#include "iis.h"

int cli_source_pickup(int instance, char *buf, size_t len)
{
    return iis_pickup_dir(instance, buf, len);
}
