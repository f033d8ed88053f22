/* settings: every setting of the database, once. TR_SETTINGS is the one
 * list; everything else about settings is generated from it: the store's
 * validation (store_setting.c), the C defaults (SETTING_DEFAULT_<key> for
 * whole numbers, setting_at(...)->default_value for every key), the
 * manager's Settings dialog (label, help) and `tlsrouter config`. A new
 * setting is one line here and one row in a new step of db/schema.sql,
 * which must seed the same default (tests/unit/test_store.c checks).
 *
 * X(key, kind, min, max, choices, default, label, help)
 *   key      the row's key in the settings table, as an identifier
 *   kind     INT (a whole number from min to max), CHOICE (one of
 *            choices), DNS (HOST[:PORT] separated by commas, or empty),
 *            HOST (a host name, or empty)
 *   choices  SETTING_CHOICES("a", "b", ...) for CHOICE, NULL otherwise
 *   default  INT: a plain decimal literal; the others: a string literal
 *   label    a few words for the manager's list
 *   help     what it does, for a Windows mail administrator; never the
 *            default or the range, which are shown beside it */
#ifndef TR_SETTINGS_H
#define TR_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#define SETTING_YEAR_S (365 * 86400)

#define TR_SETTINGS(X)                                                                        \
    X(log_level, CHOICE, 0, 0,                                                                \
      SETTING_CHOICES("error", "warning", "info", "debug", "full-debug"), "info",             \
      "Log level",                                                                            \
      "How much TLS Router writes to its diagnostic log: error and warning record only "      \
      "problems, info also what it did; debug and full-debug add the detail needed to trace " \
      "a problem and make the log grow fast.")                                                \
    X(dns_servers, DNS, 0, 0, NULL, "",                                                       \
      "DNS servers",                                                                          \
      "The DNS servers asked for recipient domains' MX, MTA-STS and DANE records, as "        \
      "HOST[:PORT] separated by commas (for example 10.0.0.53,10.0.0.54:53). Empty: the "     \
      "DNS servers this computer's network settings use.")                                    \
    X(probe_port, INT, 1, 65535, NULL, 25,                                                    \
      "Probe port",                                                                           \
      "The TCP port the probe connects to on a recipient domain's mail servers to see "       \
      "whether they offer STARTTLS, where IIS's configuration cannot be read (else the "      \
      "virtual server's own remote port is used). Internet mail servers listen on the SMTP "  \
      "port; change it only for tests.")                                                      \
    X(connect_timeout_ms, INT, 100, 600000, NULL, 5000,                                       \
      "Connect timeout (ms)",                                                                 \
      "Milliseconds the probe waits for a recipient's mail server to accept its "             \
      "connection before it tries the next address or MX host.")                              \
    X(reply_timeout_ms, INT, 100, 600000, NULL, 10000,                                        \
      "Reply timeout (ms)",                                                                   \
      "Milliseconds the probe waits for each SMTP reply of a recipient's mail server, and "   \
      "for the TLS handshake.")                                                               \
    X(total_timeout_ms, INT, 100, 3600000, NULL, 20000,                                       \
      "Probe timeout (ms)",                                                                   \
      "Milliseconds the probe of one recipient domain may take in all, over every MX host "   \
      "and address. A domain the probe cannot judge in time stays on TLS.")                   \
    X(ehlo_name, HOST, 0, 0, NULL, "",                                                        \
      "EHLO name",                                                                            \
      "The name the probe gives in its EHLO command; best the public name of this mail "      \
      "server, as its MX and reverse DNS records say. Empty: the virtual server's fully "     \
      "qualified domain name in IIS, else this computer's name.")                             \
    X(tls_floor, CHOICE, 0, 0,                                                                \
      SETTING_CHOICES("auto", "tls1.0", "tls1.1", "tls1.2", "tls1.3"), "auto",                \
      "Oldest TLS version",                                                                   \
      "The oldest TLS version the probe accepts from a recipient's mail server; older "       \
      "counts as a failed handshake. auto: what Schannel allows on this computer, which is "  \
      "what IIS itself can use.")                                                             \
    X(verify_chain, INT, 0, 1, NULL, 0,                                                       \
      "Check certificate chain",                                                              \
      "1: a recipient's server certificate must chain to a root this computer trusts, or "    \
      "the probe counts a failed handshake. 0: not checked, as IIS does not check it by "     \
      "default.")                                                                             \
    X(verify_name, INT, 0, 1, NULL, 0,                                                        \
      "Check certificate name",                                                               \
      "1: a recipient's server certificate must name the mail server the probe connected "    \
      "to, or the probe counts a failed handshake. 0: not checked, as IIS does not check it " \
      "by default.")                                                                          \
    X(ttl_starttls_s, INT, 0, SETTING_YEAR_S, NULL, 86400,                                    \
      "Keep \"TLS works\" (s)",                                                               \
      "Seconds the probe cache keeps a result saying a domain's mail server offers working "  \
      "TLS, before the domain is probed again. 0: not kept.")                                 \
    X(ttl_no_starttls_s, INT, 0, SETTING_YEAR_S, NULL, 21600,                                 \
      "Keep \"no TLS\" (s)",                                                                  \
      "Seconds the probe cache keeps a result saying a domain's mail server offers no "       \
      "STARTTLS, refuses it, or fails the TLS handshake, before the domain is probed again. " \
      "0: not kept.")                                                                         \
    X(ttl_failure_s, INT, 0, SETTING_YEAR_S, NULL, 900,                                       \
      "Keep \"could not tell\" (s)",                                                          \
      "Seconds the probe cache keeps a result that could not tell (DNS failure, no "          \
      "answer, timeout); also how long one sighting of an expired certificate counts until "  \
      "a second probe confirms it. 0: not kept.")                                             \
    X(ttl_expired_s, INT, 0, SETTING_YEAR_S, NULL, 604800,                                    \
      "Keep expired certificates (s)",                                                        \
      "Seconds a domain confirmed to show an expired certificate stays on the "               \
      "expired-certificate list after its last sighting. It is re-checked in the "            \
      "background and leaves the list as soon as its certificate is renewed.")                \
    X(journal_max_age_days, INT, 1, 3650, NULL, 30,                                           \
      "Journal days",                                                                         \
      "Days the journal keeps each routing decision (recipient, TLS or plain, and why); "     \
      "older ones are deleted.")                                                              \
    X(journal_max_rows, INT, 1000, 1000000000, NULL, 1000000,                                 \
      "Journal rows",                                                                         \
      "The most routing decisions the journal keeps; past it the oldest are deleted first.")  \
    X(log_max_rows, INT, 1000, 1000000000, NULL, 100000,                                      \
      "Log lines",                                                                            \
      "The most diagnostic log lines kept; past it the oldest are deleted first.")            \
    X(guard_mta_sts, INT, 0, 1, NULL, 1,                                                      \
      "MTA-STS protection",                                                                   \
      "1: a domain whose MTA-STS policy (RFC 8461) says enforce never has its mail sent "     \
      "plain, even when its server seems to lack TLS, which can be an attacker at work. 0: "  \
      "MTA-STS policies are neither looked up nor learnt.")                                   \
    X(guard_dane, INT, 0, 1, NULL, 1,                                                         \
      "DANE protection",                                                                      \
      "1: a domain whose mail servers publish DNSSEC-signed TLSA records (DANE, RFC 7672) "   \
      "never has its mail sent plain. It needs DNS servers that validate DNSSEC. 0: TLSA "    \
      "records are not looked up.")                                                           \
    X(guard_timeout_ms, INT, 100, 600000, NULL, 5000,                                         \
      "Guard timeout (ms)",                                                                   \
      "Milliseconds the MTA-STS and DANE look-ups of one recipient domain may take; a "       \
      "domain whose look-ups do not finish in time stays on TLS.")                            \
    X(message_timeout_ms, INT, 1000, 3600000, NULL, 20000,                                    \
      "Message timeout (ms)",                                                                 \
      "Milliseconds TLS Router may spend deciding all the recipient domains of one "          \
      "message, so the SMTP service is never held up longer; domains not decided in time "    \
      "stay on TLS.")                                                                         \
    X(refresh_window_days, INT, 1, 365, NULL, 7,                                              \
      "Keep domains warm (days)",                                                             \
      "A recipient domain mail went to within this many days is probed again in the "         \
      "background before its probe cache entry runs out, so its messages never wait for a "   \
      "probe. A domain not used for this long is left to its next message.")                  \
    X(refresh_concurrency, INT, 1, 16, NULL, 4,                                               \
      "Background probes at once",                                                            \
      "How many background probes (domains kept warm, expired certificates checked again) "   \
      "may run at the same time. Probes for messages never wait for these.")                  \
    X(refresh_max_per_minute, INT, 1, 100000, NULL, 600,                                      \
      "Background probes a minute",                                                           \
      "The most background probes started in one minute, so keeping many domains warm "       \
      "never floods the network or the recipients' mail servers.")

/* A CHOICE's words, as a NULL-terminated array. */
#define SETTING_CHOICES(...) ((const char *const[]){ __VA_ARGS__, NULL })

typedef enum {
    SETTING_KIND_INT,
    SETTING_KIND_CHOICE,
    SETTING_KIND_DNS,
    SETTING_KIND_HOST
} setting_kind;

/* SETTING_ID_<key>: a setting's index in the list. */
#define SETTING_ID_ENUM(key, kind, min, max, choices, def, label, help) SETTING_ID_##key,
typedef enum { TR_SETTINGS(SETTING_ID_ENUM) SETTING_COUNT } setting_id;
#undef SETTING_ID_ENUM

/* SETTING_DEFAULT_<key>: the default of each whole-number setting. */
#define SETTING_DEFAULT_ENUM_INT(key, def) SETTING_DEFAULT_##key = def,
#define SETTING_DEFAULT_ENUM_CHOICE(key, def)
#define SETTING_DEFAULT_ENUM_DNS(key, def)
#define SETTING_DEFAULT_ENUM_HOST(key, def)
#define SETTING_DEFAULT_ENUM(key, kind, min, max, choices, def, label, help) \
    SETTING_DEFAULT_ENUM_##kind(key, def)
enum { TR_SETTINGS(SETTING_DEFAULT_ENUM) };
#undef SETTING_DEFAULT_ENUM
#undef SETTING_DEFAULT_ENUM_INT
#undef SETTING_DEFAULT_ENUM_CHOICE
#undef SETTING_DEFAULT_ENUM_DNS
#undef SETTING_DEFAULT_ENUM_HOST

typedef struct {
    const char *key;
    setting_kind kind;
    int64_t min, max;              /* SETTING_KIND_INT */
    const char *const *choices;    /* SETTING_KIND_CHOICE: NULL-terminated */
    const char *default_value;     /* as db/schema.sql seeds it */
    const char *label;
    const char *help;
} setting_def;

/* The settings in the list's order: index 0, 1, ... until NULL. */
const setting_def *setting_at(size_t index);
/* The setting named key (exactly), or NULL. */
const setting_def *setting_find(const char *key);

/* What a value may be, as a phrase for the manager and the CLI: "a whole
 * number from 1 to 65535", "0 or 1", "error, warning, info, debug or
 * full-debug", ... Truncated to fit len. */
void setting_allowed_text(const setting_def *d, char *buf, size_t len);

#endif
