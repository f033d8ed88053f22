/* The GUIDs the sink uses: CDO's IIDs from mingw's cdosys_i.c (defined once,
 * here), our class id, and SEO's IEventIsCacheable. */
#define _MIDL_USE_GUIDDEF_
#include "sink.h"

#include <cdosys_i.c>

const CLSID CLSID_TlsRouterSink = {
    0x06a27498, 0xa1ab, 0x4dcb, { 0x96, 0x27, 0x37, 0x57, 0x12, 0xdc, 0xa6, 0xc6 }
};

const IID IID_IEventIsCacheable = {
    0x22e0f830, 0x1e81, 0x11d1, { 0xaa, 0x29, 0x00, 0xaa, 0x00, 0x6b, 0xc8, 0x0b }
};
