/* The setup checks' Windows facts, shared with the manager's Check button. */
#include "cli.h"

#include "checkhost.h"

const check_host *cli_check_host(void) { return checkhost_windows(); }
