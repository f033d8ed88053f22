/* explain: the table, indexed by decide_reason, in the order of DESIGN.md's
 * decision table. "TLS server" is the virtual server the sink is bound to
 * (TLS required); "Plain TCP Server" the one a rule hands mail to. The
 * names of the rule's options are the manager's own labels. */
#include "explain.h"

#include <string.h>

#define TEXT(r, rt, t, m, a) [r] = { .reason = r, .route = rt, .title = t, .meaning = m, .action = a }

static const explain_text texts[] = {
    TEXT(DECIDE_NO_RULE, EXPLAIN_TLS, "No rule for this virtual server",
         "No enabled TLS Router rule applies to the IIS SMTP virtual server the message "
         "arrived on, so the router left the recipient alone: IIS delivers it as it would "
         "without TLS Router.",
         "If this virtual server should hand mail for servers without TLS to the Plain TCP "
         "Server, create a rule for it or enable its rule (Manager, Rules tab; or "
         "'tlsrouter rule add' and 'tlsrouter rule set NAME --enabled on'). "
         "'tlsrouter check' says whether a rule is set up."),

    TEXT(DECIDE_LOOP, EXPLAIN_TLS, "The message came back",
         "The message already carries the Received line TLS Router writes when it hands a "
         "message to the Plain TCP Server, and it arrived at the TLS server again. Handing it "
         "off a second time could send it round for ever, so every recipient stays with the "
         "TLS server. A warning also goes to the Event Log.",
         "Find the route that sends mail from the Plain TCP Server back to this server: a "
         "smart host or a domain entry of the Plain TCP Server that points here, or a rule "
         "whose Pickup folder is the TLS server's own. Correct it; mail sent after that is "
         "routed as usual."),

    TEXT(DECIDE_IIS_LOCAL_DOMAIN, EXPLAIN_TLS, "A local domain of IIS",
         "The recipient's domain is the virtual server's default domain or one of its alias "
         "domains, so IIS delivers the message on this host (into its Drop folder) and it "
         "never leaves the server. The router neither tests the domain nor hands it off.",
         "Nothing to do. If mail for this domain should go elsewhere, change the domain's "
         "entry under the virtual server's Domains in IIS 6.0 Manager."),

    TEXT(DECIDE_IIS_DOMAIN_ROUTE, EXPLAIN_TLS, "IIS routes this domain itself",
         "The virtual server has an entry of its own for this remote domain in IIS (under "
         "Domains: forward all mail to a smart host, TLS encryption required, or a drop "
         "folder). IIS follows that route, so the router leaves the recipient with it and "
         "does not test the domain.",
         "Nothing to do: such a domain needs no never-redirect entry. To let the router "
         "decide for it, remove or change the domain's entry under the virtual server's "
         "Domains in IIS 6.0 Manager."),

    TEXT(DECIDE_NEVER_REDIRECT, EXPLAIN_TLS, "On the rule's never-redirect list",
         "The recipient's domain matches the rule's list \"But never redirect email if "
         "recipient domain is in the following list\", so it always stays with the TLS "
         "server, without a test.",
         "Nothing to do if this domain must only get mail over TLS. If its mail fails because "
         "its server has no working TLS, take the domain off the list (Manager: edit the "
         "rule; or 'tlsrouter domains remove RULE never-redirect DOMAIN')."),

    TEXT(DECIDE_FORCE_PLAIN, EXPLAIN_PLAIN, "On the rule's force-plain list",
         "The recipient's domain matches the rule's list \"Or if recipient domain is in the "
         "following list\", so it was handed to the Plain TCP Server, which sends it without "
         "encryption, without a test. This list stands even over an MTA-STS or DANE policy "
         "the domain publishes.",
         "Nothing to do if this domain must get its mail without TLS. If it offers working "
         "TLS now, take it off the list (Manager: edit the rule; or 'tlsrouter domains "
         "remove RULE force-plain DOMAIN') and the router tests it again."),

    TEXT(DECIDE_STS_POLICY, EXPLAIN_TLS, "The domain requires TLS (MTA-STS)",
         "The domain publishes an MTA-STS policy in enforce mode: its owner states that mail "
         "must reach it over TLS. The router never hands such a domain to the Plain TCP "
         "Server, whatever a test of its server shows.",
         "Nothing to do on this server. If mail to the domain fails, its mail servers' TLS is "
         "broken or does not match its policy: tell the domain's mail administrator. "
         "'tlsrouter probe DOMAIN' shows what the router sees."),

    TEXT(DECIDE_DANE, EXPLAIN_TLS, "The domain requires TLS (DANE)",
         "The domain publishes DNSSEC-signed TLSA records for its mail server (DANE): a "
         "signed promise that its server speaks TLS. The router never hands such a domain "
         "to the Plain TCP Server.",
         "Nothing to do on this server. If mail to the domain fails, tell the domain's mail "
         "administrator that its server does not keep the promise. 'tlsrouter probe DOMAIN' "
         "shows what the router sees."),

    TEXT(DECIDE_GUARD_UNKNOWN, EXPLAIN_TLS, "The domain's TLS policy could not be checked",
         "Before sending anything without TLS, the router asks whether the domain requires "
         "TLS (MTA-STS and DANE). This time that question got no usable answer (a DNS time-out "
         "or server failure, say), and without it a plain route could be a downgrade, so the "
         "recipient stays with the TLS server. The missing answer is not remembered: the "
         "next message asks again.",
         "Usually nothing. If it keeps happening, check that this server's DNS servers "
         "answer ('tlsrouter check'); the journal's detail names the look-up that failed."),

    TEXT(DECIDE_EXPIRED_CACHE, EXPLAIN_PLAIN, "A known expired certificate",
         "The domain is on the expired-certificate list: a recent test found its mail server "
         "presenting an expired certificate, and the rule's option \"Or if recipient server "
         "SSL certificate has expired\" is on. The recipient was handed to the Plain TCP "
         "Server at once, without a new test.",
         "Nothing to do. The router tests listed domains again in the background and takes a "
         "domain off the list once its certificate is renewed. To take it off now: Manager, "
         "Cache tab, or 'tlsrouter cache clear --expired'."),

    TEXT(DECIDE_NO_STARTTLS, EXPLAIN_PLAIN, "The server does not offer TLS",
         "The recipient's mail server does not offer STARTTLS, so the TLS server could not "
         "deliver to it (IIS: \"The remote SMTP service does not support TLS.\"). The "
         "recipient was handed to the Plain TCP Server, which delivers it without "
         "encryption.",
         "Nothing to do: this is what TLS Router is for. To keep a domain on TLS anyway (its "
         "mail then fails until its server offers TLS), put it on the rule's never-redirect "
         "list."),

    TEXT(DECIDE_STARTTLS_REJECTED, EXPLAIN_PLAIN, "The server refused STARTTLS",
         "The recipient's mail server offers STARTTLS but answered the STARTTLS command with "
         "an error (IIS: \"The remote SMTP server responded with an error during the "
         "STARTTLS command.\"). The recipient was handed to the Plain TCP Server, which "
         "delivers it without encryption.",
         "Nothing to do. The journal's detail shows the server's reply; the router tests the "
         "domain again when its entry in the probe cache runs out."),

    TEXT(DECIDE_CERT_EXPIRED, EXPLAIN_DEPENDS, "An expired certificate",
         "The recipient's mail server offers TLS with an expired certificate, which IIS "
         "refuses (\"The remote SMTP service rejected the SSL handshake because the "
         "certificate has expired.\"). With the rule's option \"Or if recipient server SSL "
         "certificate has expired\" on, the recipient went to the Plain TCP Server and the "
         "domain joined the expired-certificate list; with it off, the recipient stayed with "
         "the TLS server, where IIS keeps failing and retrying until the certificate is "
         "renewed. The journal's route says which happened.",
         "Tell the domain's mail administrator that the certificate has expired. To deliver "
         "such mail meanwhile, turn the rule's expired-certificate option on."),

    TEXT(DECIDE_HANDSHAKE_FAILED, EXPLAIN_DEPENDS, "The TLS handshake failed",
         "The recipient's mail server offers STARTTLS, but no TLS session could be set up "
         "with it: usually it speaks only a protocol version or cipher this Windows server "
         "has turned off (Schannel's settings), or its certificate is not valid yet. The "
         "rule's option \"Or if recipient server SSL certificate has expired\" covers this "
         "too: on, the recipient went to the Plain TCP Server; off, it stayed with the TLS "
         "server, where IIS's own handshake is likely to fail the same way. The journal's "
         "route says which happened.",
         "Read the journal's detail for what failed. Either turn the rule's "
         "expired-certificate option on, so such mail goes without TLS, or enable the older "
         "TLS versions for Schannel's client side (the Admin Guide's Schannel section), so "
         "IIS and the router can both use them."),

    TEXT(DECIDE_TLS_OK, EXPLAIN_TLS, "TLS works",
         "A test of the recipient's mail server completed a TLS handshake, so the recipient "
         "stays with the TLS server, which delivers it encrypted.",
         "Nothing to do."),

    TEXT(DECIDE_PROBE_FAILED, EXPLAIN_TLS, "The server could not be tested",
         "The router could not tell whether the recipient's mail server offers TLS: the DNS "
         "look-up failed, the domain has no mail server, the connection was refused or timed "
         "out, the server answered something unexpected, or the message's time limit ran out. "
         "Without a definite answer the recipient stays with the TLS server, and IIS handles "
         "it as it would without TLS Router.",
         "Usually nothing: a failed test is remembered only briefly and the next message "
         "tests again. If a domain keeps failing, run 'tlsrouter probe DOMAIN' and "
         "'tlsrouter check' on this server: outbound port 25 may be blocked or DNS may not "
         "answer. The journal's status and detail name the step that failed."),

    TEXT(DECIDE_NEEDS_PROBE, EXPLAIN_TLS, "Not tested",
         "The router needed a test of the recipient's mail server and had no result to "
         "decide with, so the recipient stayed with the TLS server. The router tests a "
         "domain before it records a decision, so this is not expected in the journal.",
         "If it appears, keep the log of that time ('tlsrouter log --level debug') and "
         "report it: it points at a fault in TLS Router."),

    TEXT(DECIDE_ADDRESS_REFUSED, EXPLAIN_TLS, "The address cannot be handed off",
         "The recipient's or the sender's address cannot be written safely into a Pickup "
         "file (a character IIS would misread, an address too long, or no valid domain), so "
         "the router does not hand this recipient to the Plain TCP Server: it stays with the "
         "TLS server, and IIS handles it as it would without TLS Router.",
         "Look at the address in the journal's detail. A malformed address needs no action; "
         "if it is a genuine address, report it."),
};

_Static_assert(sizeof texts / sizeof texts[0] == DECIDE_REASON_COUNT,
               "explain.c: every decide_reason needs its text");

const explain_text *explain_reason(decide_reason reason)
{
    if ((unsigned)reason >= DECIDE_REASON_COUNT || !texts[reason].title)
        return NULL;
    return &texts[reason];
}

const explain_text *explain_lookup(const char *name)
{
    decide_reason reason;
    if (!name || decide_reason_parse(name, &reason) != 0)
        return NULL;
    return explain_reason(reason);
}

const char *explain_route_name(explain_route route)
{
    switch (route) {
    case EXPLAIN_PLAIN:
        return "plain";
    case EXPLAIN_DEPENDS:
        return "depends";
    default:
        return "tls";
    }
}
