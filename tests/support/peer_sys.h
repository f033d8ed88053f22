/* peer_sys: the one platform call the SMTP test peers need beyond net.h
 * (peer_posix.c, peer_win32.c). */
#ifndef TR_PEER_SYS_H
#define TR_PEER_SYS_H

#include "net.h"

/* Close fd so that the other side sees a reset (RST), not an orderly
 * close: SO_LINGER with a zero timeout, then close. */
void peer_sys_close_reset(net_fd fd);

#endif
