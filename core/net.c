/* net: the portable part (deadline arithmetic). */
#include "net.h"

#include <limits.h>

#include "plat.h"

int net_remaining_ms(uint64_t deadline_ms)
{
    uint64_t now = plat_now_ms();
    if (now >= deadline_ms)
        return 0;
    if (deadline_ms - now > (uint64_t)INT_MAX)
        return INT_MAX;
    return (int)(deadline_ms - now);
}
