/* sinkbind: see sinkbind.h. seobind_list writes smtpreg-style text; the
 * lines that matter are, per binding, "SinkClass: <ProgID>", "Enabled:
 * True|False" and, in its SinkProperties, "Instance = <n>". */
#include "sinkbind.h"

#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "seobind.h"

static const char *after(const char *line, const char *label)
{
    const char *p = strstr(line, label);
    return p ? p + strlen(label) : NULL;
}

void sinkbind_parse(const char *listing, const char *progid, sinkbind_info *out)
{
    int ours = 0, enabled = 1, instance = 0;
    memset(out, 0, sizeof *out);
    for (const char *line = listing; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", (int)(len < sizeof buf ? len : sizeof buf - 1), line);
        const char *v;
        if (strstr(buf, "| Binding |") || strstr(buf, "| Source |")) {
            if (ours && instance > 0 && out->count < SINKBIND_MAX) {
                out->instance[out->count] = instance;
                out->enabled[out->count++] = enabled;
            }
            ours = 0, enabled = 1, instance = 0;
        } else if ((v = after(buf, "SinkClass: ")) != NULL) {
            ours = _stricmp(v, progid) == 0;
        } else if ((v = after(buf, "Enabled: ")) != NULL) {
            enabled = _stricmp(v, "False") != 0 && strcmp(v, "0") != 0;
        } else if ((v = after(buf, "Instance = ")) != NULL) {
            instance = atoi(v);
        }
        line = end ? end + 1 : NULL;
    }
    if (ours && instance > 0 && out->count < SINKBIND_MAX) {
        out->instance[out->count] = instance;
        out->enabled[out->count++] = enabled;
    }
}

/* The listing goes through a temporary file that deletes itself. */
int sinkbind_read(const char *progid, sinkbind_info *out, char *err, size_t errlen)
{
    wchar_t dir[MAX_PATH], path[MAX_PATH];
    memset(out, 0, sizeof *out);
    if (!GetTempPathW(MAX_PATH, dir) || !GetTempFileNameW(dir, L"trb", 0, path)) {
        snprintf(err, errlen, "no temporary file for the listing");
        return -1;
    }
    FILE *f = _wfopen(path, L"w+bD");
    if (!f) {
        DeleteFileW(path);
        snprintf(err, errlen, "no temporary file for the listing");
        return -1;
    }
    int rc = seobind_list(f, err, errlen);
    if (rc == 0) {
        long size = ftell(f);
        char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
        rewind(f);
        if (text && fread(text, 1, (size_t)size, f) == (size_t)size) {
            text[size] = 0;
            sinkbind_parse(text, progid, out);
        } else {
            snprintf(err, errlen, "the listing could not be read back");
            rc = -1;
        }
        free(text);
    }
    fclose(f);
    return rc;
}
