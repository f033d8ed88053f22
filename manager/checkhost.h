/* checkhost: the Windows facts the setup checks need (core/check.h):
 * services, the sink's COM registration and binding, the client TLS
 * protocols Schannel allows. Shared by the manager's Check button and the
 * Windows tlsrouter's `check`. */
#ifndef TR_MGR_CHECKHOST_H
#define TR_MGR_CHECKHOST_H

#include "check.h"

const check_host *checkhost_windows(void);

#endif
