/* iis_model: what IIS's own SMTP configuration says, as a portable model.
 *
 * IIS routes some mail itself, whatever the router decides: a virtual
 * server's local domains (the default domain and its aliases) never leave
 * the host, and a remote domain entry may carry its own route (a smart
 * host, TLS required, a drop folder). A virtual server may also send all
 * its mail through a smart host ("SmartHostType" always), and it connects
 * to RemoteSmtpPort, saying its FullyQualifiedDomainName. The router reads
 * these facts so it neither probes a question IIS does not ask nor hands
 * a domain IIS routes itself to the Plain TCP Server.
 *
 * The facts come from the IIS metabase: through ADSI
 * (IIS://localhost/SMTPSVC/N and its Domain children, iis_read_win32.c)
 * or from %windir%\system32\inetsrv\MetaBase.xml (iis_metabase.c). A
 * model is immutable once read: the engine swaps in a fresh one. */
#ifndef TR_IIS_MODEL_H
#define TR_IIS_MODEL_H

#include <stddef.h>

#include "domain.h"
#include "plat.h"

#define IIS_TEXT_MAX 256
#define IIS_MAX_PORTS 16

/* ServerState (MD_SERVER_STATE_*). */
typedef enum {
    IIS_STATE_UNKNOWN = 0,     /* not read */
    IIS_STATE_STARTING = 1,
    IIS_STATE_STARTED = 2,
    IIS_STATE_STOPPING = 3,
    IIS_STATE_STOPPED = 4,
    IIS_STATE_PAUSING = 5,
    IIS_STATE_PAUSED = 6,
    IIS_STATE_CONTINUING = 7
} iis_state;

/* SmartHostType: the "Attempt direct delivery before sending to smart
 * host" box. NONE when no smart host is set. */
typedef enum {
    IIS_SMART_HOST_NONE = 0,
    IIS_SMART_HOST_AFTER_DNS = 1,  /* DNS first, the smart host when that fails */
    IIS_SMART_HOST_ALWAYS = 2      /* everything goes to the smart host */
} iis_smart_host_type;

/* RouteAction bits that matter here (of a domain entry; on a server the
 * TLS bit is its outbound "TLS encryption" box). */
#define IIS_ROUTE_DROP 0x01u       /* mail for the domain goes into a folder */
#define IIS_ROUTE_SMART_HOST 0x02u /* "Forward all mail to smart host" (RouteActionString) */
#define IIS_ROUTE_TLS 0x04u        /* outbound TLS required */
#define IIS_ROUTE_ALIAS 0x10u      /* local (alias) domain */
#define IIS_ROUTE_DELIVER 0x20u
#define IIS_ROUTE_DEFAULT 0x40u    /* local (default) domain */

/* One entry under Domain/: a local or remote domain of a virtual server. */
typedef struct {
    char name[DOMAIN_BUF];          /* normalised; "*.example.com" for a wildcard */
    unsigned route_action;
    char route_host[IIS_TEXT_MAX];  /* RouteActionString: the domain's smart host */
} iis_domain;

/* One SMTP virtual server (IIsSmtpServer), with what it inherits from the
 * service (IIsSmtpService) where it sets nothing itself. */
typedef struct {
    int instance;                   /* N of /LM/SmtpSvc/N */
    char comment[IIS_TEXT_MAX];     /* ServerComment */
    iis_state state;
    unsigned ports[IIS_MAX_PORTS];  /* ServerBindings, in order */
    size_t n_ports;
    char fqdn[IIS_TEXT_MAX];        /* FullyQualifiedDomainName; "" unset */
    char default_domain[DOMAIN_BUF];/* DefaultDomain, normalised; "" unset */
    unsigned remote_port;           /* RemoteSmtpPort; 25 when unset */
    char smart_host[IIS_TEXT_MAX];  /* SmartHost: a name or "[address]" */
    iis_smart_host_type smart_host_type;
    unsigned route_action;          /* the server's own RouteAction */
    int always_use_ssl;             /* AlwaysUseSsl */
    char pickup_dir[PLAT_PATH_MAX];
    char drop_dir[PLAT_PATH_MAX];
    iis_domain *domains;            /* sorted by name (strcmp) */
    size_t n_domains;
} iis_server;

/* Where a model came from. */
typedef enum {
    IIS_FROM_NOWHERE = 0,  /* nothing could be read: the model is empty */
    IIS_FROM_ADSI,
    IIS_FROM_METABASE      /* a MetaBase.xml file */
} iis_origin;

typedef struct {
    iis_origin origin;
    char where[PLAT_PATH_MAX];  /* "IIS://localhost/SMTPSVC" or the file */
    char why[256];              /* why it is empty, or what was left out */
    iis_server *servers;        /* sorted by instance */
    size_t n_servers;
    int refs;                   /* the holder's (the engine's) count; 0 elsewhere */
} iis_model;

/* An empty model saying why (printf-style); NULL when out of memory. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
iis_model *iis_model_empty(const char *why_fmt, ...);
void iis_model_free(iis_model *m);

/* Adds a server (copied; its domains are taken over and sorted) and keeps
 * the servers sorted. For the readers. 0, or -1 when out of memory. */
int iis_model_add_server(iis_model *m, iis_server *s);

const iis_server *iis_model_server(const iis_model *m, int instance);

/* What IIS does with mail for a domain on a virtual server. */
typedef enum {
    IIS_DOMAIN_UNLISTED = 0,   /* nothing special: IIS delivers as usual */
    IIS_DOMAIN_LOCAL,          /* a local domain: default, alias, DefaultDomain */
    IIS_DOMAIN_ROUTED,         /* a remote entry with its own route */
    IIS_DOMAIN_REMOTE          /* a remote entry with no route of its own */
} iis_domain_kind;

/* The entry IIS applies to a normalised domain: the exact name, else the
 * most specific wildcard. IIS documents "*.example.com" as covering "all
 * inclusive domains"; whether example.com itself is among them is not
 * said, so it is counted in: the error then leaves a domain with IIS (on
 * TLS) rather than handing one IIS routes itself to the Plain server.
 * NULL when no entry applies. */
const iis_domain *iis_server_domain_entry(const iis_server *s, const char *domain);
/* The kind for a normalised domain; *entry (may be NULL) gets the entry
 * that decided it (NULL for DefaultDomain or unlisted). */
iis_domain_kind iis_server_domain_kind(const iis_server *s, const char *domain,
                                       const iis_domain **entry);
int iis_domain_is_local(const iis_domain *d);
/* A route of its own: drop, smart host or TLS required. */
int iis_domain_has_route(const iis_domain *d);
/* "smart host [10.0.0.5], TLS required" for the journal; "" when none. */
void iis_domain_route_text(const iis_domain *d, char *buf, size_t len);

/* The smart host every message goes to (SmartHostType always and a smart
 * host set), or NULL. */
const char *iis_server_smart_host_always(const iis_server *s);
/* Outbound TLS required for all mail (the "TLS encryption" box of the
 * server's Outbound Security): RouteAction's TLS bit or AlwaysUseSsl. */
int iis_server_requires_tls(const iis_server *s);
/* RemoteSmtpPort, 25 when unset. */
unsigned iis_server_remote_port(const iis_server *s);
/* Does one of ServerBindings use this port? */
int iis_server_listens_on(const iis_server *s, unsigned port);
/* Adds one ServerBindings entry ("IP:PORT:HOST", e.g. ":25:") to s's
 * ports. 0; 1 when s already holds IIS_MAX_PORTS (the entry is dropped);
 * -1 when the entry is not IP:PORT:HOST with a port of 1-65535. For the
 * readers. */
int iis_server_add_binding(iis_server *s, const char *entry, size_t len);
/* The server whose PickupDirectory is dir (compared as paths: case and
 * separators as Windows sees them), or NULL. */
const iis_server *iis_model_server_by_pickup(const iis_model *m, const char *dir);

/* "started", "stopped", ... "unknown". */
const char *iis_state_name(iis_state s);
const char *iis_origin_name(iis_origin o);

#endif
