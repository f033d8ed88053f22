/* iis_metabase: the SMTP part of IIS's MetaBase.xml, read without an XML
 * library.
 *
 * The file (%windir%\system32\inetsrv\MetaBase.xml, IIS 6 format, also
 * written by the IIS 6 compatibility layer of 2008 R2 to 2022) holds one
 * element per metabase node, its properties as attributes:
 *
 *   <IIsSmtpService Location ="/LM/SmtpSvc" SmartHostType="0" ...>
 *   <IIsSmtpServer Location ="/LM/SmtpSvc/1" ServerBindings=":25:" ...>
 *   <IIsSmtpDomain Location ="/LM/SmtpSvc/1/Domain/example.com" RouteAction="16"/>
 *
 * and properties the schema does not name for that class as children:
 *
 *   <Custom Name="RouteAction" ID="36946" Value="4" Type="DWORD" .../>
 *
 * Only these elements and the properties iis_model.h models are read; numbers
 * are decimal or 0x hexadecimal; multi-string values (ServerBindings) are
 * one entry per line. A server inherits from the service what it does not
 * set, and a domain entry without RouteAction inherits the server's, as
 * the metabase's INHERIT attribute makes ADSI report them.
 *
 * The reader is bounded and strict about structure: the file's size, an
 * element's nesting depth, a value's length, the number of nodes are
 * capped; a truncated file, a tag left open, wrong nesting, an unknown
 * entity or a document type declaration is an error (the caller keeps
 * what it had), never half a model. */
#ifndef TR_IIS_METABASE_H
#define TR_IIS_METABASE_H

#include <stddef.h>

#include "iis_model.h"

/* Larger files are refused: a real MetaBase.xml is well under 1 MB. */
#define IIS_METABASE_MAX_BYTES (32u * 1024u * 1024u)

/* Parses len bytes (UTF-8, a byte order mark allowed). where names the
 * source in the model and in messages. A fresh model (origin
 * IIS_FROM_METABASE; its why says what was left out, or that there is no
 * SMTP virtual server), or NULL with the reason in err. */
iis_model *iis_metabase_parse(const char *text, size_t len, const char *where, char *err,
                              size_t errlen);

/* Reads and parses the file at path. */
iis_model *iis_metabase_load(const char *path, char *err, size_t errlen);

#endif
