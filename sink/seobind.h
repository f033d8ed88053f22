/* seobind: the OnArrival binding of an SMTP virtual server, made the way
 * Microsoft's smtpreg.vbs makes it, through SEO's automation objects
 * (Event.ComCat, Event.Util, Event.Manager) by late binding, so no SEO
 * headers or type libraries are needed:
 *
 *   Event.ComCat.RegisterClassImplementsCategory(ProgID, OnArrival category)
 *   source = Event.Manager.SourceTypes(SMTP source type)
 *            .Sources(Event.Util.GetIndexedGUID(SMTP source base, instance))
 *   binding = source.GetBindingManager.Bindings(OnArrival category).Add(new id)
 *   binding.DisplayName, .SinkClass, .SourceProperties Rule and Priority,
 *   .SinkProperties Instance (read by our sink), .Enabled; binding.Save
 *
 * COM must be initialised by the caller. */
#ifndef TR_SEOBIND_H
#define TR_SEOBIND_H

#include <windows.h>
#include <stdio.h>

#define SEOBIND_SMTP_SOURCE_TYPE L"{fb65c4dc-e468-11d1-aa67-00c04fa345f6}"
#define SEOBIND_SMTP_SOURCE_BASE L"{1b3c0666-e470-11d1-aa67-00c04fa345f6}"
#define SEOBIND_ONARRIVAL L"{FF3CAA23-00B9-11d2-9DFB-00C04FA322BA}"
#define SEOBIND_DEFAULT_NAME L"TLS Router Sink"
#define SEOBIND_DEFAULT_PROGID L"TLSRouter.Sink"
#define SEOBIND_DEFAULT_RULE L"mail from=*"
#define SEOBIND_DEFAULT_PRIORITY 24575
#define SEOBIND_MAX_PRIORITY 32767

typedef struct {
    int instance;              /* SMTP virtual server, 1.. */
    const wchar_t *name;       /* binding DisplayName */
    const wchar_t *progid;     /* SinkClass */
    const wchar_t *rule;       /* source property Rule */
    int priority;              /* source property Priority, 0..32767 */
} seobind_options;

void seobind_defaults(seobind_options *o);

/* Bind (replacing bindings of the same name on that instance). The new
 * binding's id goes to id (39 characters and NUL). 0, or -1 with a
 * one-line reason in err. */
int seobind_register(const seobind_options *o, wchar_t *id, size_t idlen, char *err, size_t errlen);

/* Remove the bindings named name on instance; *removed says how many. */
int seobind_unregister(int instance, const wchar_t *name, int *removed, char *err, size_t errlen);

#define SEOBIND_ID_CHARS 38          /* {xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx} */
#define SEOBIND_TEXT_MAX 256
#define SEOBIND_MAX_INSTANCE 64      /* virtual servers whose source is recognised */

/* One OnArrival binding, as data. Texts are cut to fit. */
typedef struct {
    int instance;                      /* virtual server of the event source; 0 when
                                          the source is not an SMTP instance's */
    int sink_instance;                 /* SinkProperties Instance (what our sink
                                          reads); 0 when absent */
    int enabled;
    int priority;                      /* SourceProperties Priority; -1 absent */
    wchar_t id[SEOBIND_ID_CHARS + 1];
    wchar_t name[SEOBIND_TEXT_MAX];    /* DisplayName */
    wchar_t progid[SEOBIND_TEXT_MAX];  /* SinkClass */
    wchar_t rule[SEOBIND_TEXT_MAX];    /* SourceProperties Rule */
    wchar_t source_name[SEOBIND_TEXT_MAX];
    wchar_t source_id[SEOBIND_ID_CHARS + 1];
} seobind_binding;

/* Called once per binding; a non-zero return stops the walk. */
typedef int (*seobind_fn)(const seobind_binding *b, void *arg);

/* Every OnArrival binding of every SMTP event source. 0 (also when there
 * are none, or when fn stopped the walk), or -1 with the reason in err. */
int seobind_enum(seobind_fn fn, void *arg, char *err, size_t errlen);

/* The same bindings written to out as smtpreg.vbs /enum shows them. */
int seobind_list(FILE *out, char *err, size_t errlen);

#endif
