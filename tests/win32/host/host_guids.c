/* CDO's IIDs for the test host, from mingw's cdosys_i.c (defined once). */
#define _MIDL_USE_GUIDDEF_
#include "host.h"

#include <cdosys_i.c>
