/* csv: see csv.h. */
#include "csv.h"

#include <string.h>

/* The first characters that make Excel, LibreOffice and Google Sheets read
 * a cell as a formula (or, tab and CR, hide one behind them). */
static int starts_like_formula(const char *s)
{
    return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL;
}

void csv_write_cell(FILE *out, const char *s, int last)
{
    if (!s)
        s = "";
    fputc('"', out);
    if (starts_like_formula(s))
        fputc('\'', out);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', out);
        fputc(*s, out);
    }
    fputc('"', out);
    fputs(last ? "\r\n" : ",", out);
}
