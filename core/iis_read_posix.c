/* iis_read (POSIX): IIS exists only on Windows; the model stays empty and
 * says so, and every decision is taken as it would be without it. */
#include "iis_read.h"

void iis_metabase_path(char *buf, size_t len)
{
    if (len)
        buf[0] = '\0';
}

iis_read_status iis_read_system(iis_model **out)
{
    *out = iis_model_empty("IIS is a Windows service: this system has none to read");
    return *out ? IIS_READ_NOTHING : IIS_READ_FAILED;
}
