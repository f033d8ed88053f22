/* peer_sys on Winsock. */
#ifdef _WIN32
#include "peer_sys.h"

#include <winsock2.h>

void peer_sys_close_reset(net_fd fd)
{
    struct linger abort_on_close = { 1, 0 };
    setsockopt((SOCKET)fd, SOL_SOCKET, SO_LINGER, (const char *)&abort_on_close,
               sizeof abort_on_close);
    closesocket((SOCKET)fd);
}

#endif
