/* net_sockaddr: the address helpers both socket layers share, written once.
 * Only net_posix.c and net_win32.c include it, after their own socket
 * headers (BSD sockets and Winsock name these calls and types alike), so
 * net.c stays free of operating system headers. */
#ifndef TR_NET_SOCKADDR_H
#define TR_NET_SOCKADDR_H

#include <string.h>

#include "net_sys.h"

int netsys_make_addr(const char *ip, unsigned port, net_peer *addr)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    memset(&ss, 0, sizeof ss);
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((unsigned short)port);
        addr->len = sizeof *v4;
    } else if (inet_pton(AF_INET6, ip, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((unsigned short)port);
        addr->len = sizeof *v6;
    } else {
        return -1;
    }
    memcpy(addr->raw, &ss, (size_t)addr->len); /* raw has no alignment */
    return 0;
}

static int family_of(const net_peer *addr)
{
    struct sockaddr sa;
    memcpy(&sa, addr->raw, sizeof sa);
    return sa.sa_family;
}

#endif
