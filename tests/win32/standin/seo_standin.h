/* seo_standin: class ids of the SEO stand-in's three classes (its own, not
 * Microsoft's), shared by the stand-in DLL and the tests. */
#ifndef TR_SEO_STANDIN_H
#define TR_SEO_STANDIN_H

#include <windows.h>

/* Event.Manager stand-in {562A9F42-FA20-4D9D-B99C-5793E13B427C} */
static const CLSID CLSID_SeoStandinManager = { 0x562a9f42, 0xfa20, 0x4d9d, { 0xb9, 0x9c, 0x57, 0x93, 0xe1, 0x3b, 0x42, 0x7c } };
/* Event.ComCat stand-in {5AF128D9-257B-47A7-9F46-7C5FE0F243C1} */
static const CLSID CLSID_SeoStandinComCat = { 0x5af128d9, 0x257b, 0x47a7, { 0x9f, 0x46, 0x7c, 0x5f, 0xe0, 0xf2, 0x43, 0xc1 } };
/* Event.Util stand-in {D1CAF680-C853-414A-9CE0-0D71E9D869C7} */
static const CLSID CLSID_SeoStandinUtil = { 0xd1caf680, 0xc853, 0x414a, { 0x9c, 0xe0, 0x0d, 0x71, 0xe9, 0xd8, 0x69, 0xc7 } };

#endif
