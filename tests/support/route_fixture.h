/* Helpers shared by the routing tests: temporary folders and whole-file
 * reads. */
#ifndef TR_ROUTE_FIXTURE_H
#define TR_ROUTE_FIXTURE_H

#include <stddef.h>

/* Reads a whole file into a fresh NUL-terminated buffer; NULL if absent. */
char *rf_read_file(const char *path, size_t *len);
/* Number of entries in a folder, not counting "." and ".."; -1 if absent. */
int rf_count_entries(const char *dir);
/* Name of the only entry of a folder into buf; -1 unless exactly one. */
int rf_only_entry(const char *dir, char *buf, size_t len);
/* Removes a folder tree (files and folders one level deep are enough). */
void rf_remove_tree(const char *dir);

#endif
