/* csv: cells of an RFC 4180 file that a spreadsheet opens as text. The
 * journal's cells carry text from outside (recipients, a remote server's
 * replies in the detail): a cell a spreadsheet would take for a formula
 * must not run as one. The CLI's `journal --csv` and the manager's export
 * both write through here. */
#ifndef TR_CSV_H
#define TR_CSV_H

#include <stdio.h>

/* Writes s as one quoted cell ("" for a quote inside), then "," or, when
 * last, the CRLF that ends the record. A cell starting with =, +, -, @,
 * tab or CR (OWASP's list for CSV injection) gets an apostrophe in front,
 * which spreadsheets read as "text follows" and do not show. */
void csv_write_cell(FILE *out, const char *s, int last);

#endif
