/* sinkbind: the IIS SMTP virtual servers the sink is bound to, read from
 * the OnArrival bindings of the IIS event system (SEO) through
 * seobind_enum (sink/seobind.c), the same walk `tlsrouter-sinkreg
 * bindings` prints. COM must be initialised on the calling thread. */
#ifndef TR_MGR_SINKBIND_H
#define TR_MGR_SINKBIND_H

#include <stddef.h>

#define SINKBIND_MAX 16

typedef struct sinkbind_info {
    int count;
    int instance[SINKBIND_MAX];   /* from the binding's Instance property */
    int enabled[SINKBIND_MAX];
} sinkbind_info;

/* 0 and *out filled (count 0: not bound anywhere), or -1 with the reason
 * SEO could not be read in err. */
int sinkbind_read(const char *progid, sinkbind_info *out, char *err, size_t errlen);

#endif
