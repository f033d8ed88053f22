/* peer_sys on POSIX sockets. */
#ifndef _WIN32
#include "peer_sys.h"

#include <sys/socket.h>
#include <unistd.h>

void peer_sys_close_reset(net_fd fd)
{
    struct linger abort_on_close = { 1, 0 };
    setsockopt((int)fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    close((int)fd);
}

#endif
