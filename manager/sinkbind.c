/* sinkbind: see sinkbind.h. The bindings come as data from seobind_enum;
 * nothing is parsed from text. */
#include "sinkbind.h"

#include <windows.h>
#include <stdio.h>
#include <string.h>

#include "seobind.h"

typedef struct {
    wchar_t progid[SEOBIND_TEXT_MAX];
    sinkbind_info *out;
} ours_walk;

/* The virtual server a binding serves: its event source's instance; the
 * Instance property our registration writes when the source is unknown. */
static int binding_instance(const seobind_binding *b)
{
    return b->instance > 0 ? b->instance : b->sink_instance;
}

static int keep_ours(const seobind_binding *b, void *arg)
{
    ours_walk *w = arg;
    int instance = binding_instance(b);
    if (_wcsicmp(b->progid, w->progid) != 0 || instance <= 0 || w->out->count >= SINKBIND_MAX)
        return 0;
    w->out->instance[w->out->count] = instance;
    w->out->enabled[w->out->count++] = b->enabled;
    return 0;
}

int sinkbind_read(const char *progid, sinkbind_info *out, char *err, size_t errlen)
{
    ours_walk w = { .out = out };
    memset(out, 0, sizeof *out);
    if (MultiByteToWideChar(CP_UTF8, 0, progid, -1, w.progid, SEOBIND_TEXT_MAX) <= 0) {
        snprintf(err, errlen, "the sink's ProgID is not valid text");
        return -1;
    }
    return seobind_enum(keep_ours, &w, err, errlen);
}
