/* iis_read: the IIS model of this host, as IIS reports it now.
 *
 * On Windows: through ADSI (IIS://localhost/SMTPSVC, each IIsSmtpServer
 * child and the IIsSmtpDomain children of its Domain node), which needs
 * the IIS 6 Metabase Compatibility feature; where ADSI cannot answer,
 * from %windir%\system32\inetsrv\MetaBase.xml (which IIS writes from its
 * metabase, so it may lag a change by a few minutes). Elsewhere there is
 * no IIS. Slow (COM, a file): called off the message path, by the
 * engine's background pool. */
#ifndef TR_IIS_READ_H
#define TR_IIS_READ_H

#include "iis_model.h"

typedef enum {
    IIS_READ_OK = 0,      /* *out is what IIS says, perhaps no server at all */
    IIS_READ_NOTHING,     /* no IIS configuration here: *out is empty, saying why */
    IIS_READ_FAILED       /* a source exists but could not be read: *out is
                             empty, saying why; a caller keeps what it had */
} iis_read_status;

/* *out is never NULL on return unless memory ran out (then FAILED). */
iis_read_status iis_read_system(iis_model **out);

/* The MetaBase.xml path of this host ("" where there is none). */
void iis_metabase_path(char *buf, size_t len);

#endif
