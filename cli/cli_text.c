/* Text helpers shared by the commands: wrapped paragraphs and UTC times. */
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_print_wrapped(FILE *out, int indent, int width, const char *text)
{
    const size_t room = (size_t)(width - indent);
    while (*text) {
        size_t len = strlen(text), cut = len;
        if (len > room) {
            cut = room;
            while (cut > 0 && text[cut] != ' ')
                cut--;
            if (cut == 0)
                cut = strcspn(text, " ");
        }
        fprintf(out, "%*s%.*s\n", indent, "", (int)cut, text);
        text += cut;
        while (*text == ' ')
            text++;
    }
}

void cli_format_utc(int64_t at_ms, int with_ms, char *buf, size_t len)
{
    time_t t = (time_t)(at_ms / 1000);
    struct tm *tm = gmtime(&t);
    char base[32];
    if (!tm || strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", tm) == 0)
        snprintf(buf, len, "%lld", (long long)at_ms);
    else if (with_ms)
        snprintf(buf, len, "%s.%03dZ", base, (int)((at_ms % 1000 + 1000) % 1000));
    else
        snprintf(buf, len, "%sZ", base);
}
