/* Folder listings for the routing tests (trtest.h has the rest). */
#ifndef TR_ROUTE_FIXTURE_H
#define TR_ROUTE_FIXTURE_H

#include <stddef.h>

/* Number of entries in a folder, not counting "." and ".."; -1 if absent. */
int rf_count_entries(const char *dir);
/* Name of the only entry of a folder into buf; -1 unless exactly one. */
int rf_only_entry(const char *dir, char *buf, size_t len);

#endif
