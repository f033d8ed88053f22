/* mtasts: RFC 8461 TXT record and policy parsing, discovery and fetch. */
#include "mtasts.h"

#include <stdio.h>
#include <string.h>

#include "dns.h"
#include "https.h"
#include "plat.h"

static const char *const mode_names[] = { "none", "testing", "enforce" };

const char *mtasts_mode_name(mtasts_mode mode)
{
    return (unsigned)mode < 3 ? mode_names[mode] : "none";
}

int mtasts_mode_parse(const char *name, mtasts_mode *mode)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, mode_names[i]) == 0) {
            *mode = (mtasts_mode)i;
            return 0;
        }
    return -1;
}

const char *mtasts_status_name(mtasts_status st)
{
    switch (st) {
    case MTASTS_OK: return "ok";
    case MTASTS_NONE: return "none";
    case MTASTS_DNS_FAILED: return "dns-failed";
    case MTASTS_FETCH_FAILED: return "fetch-failed";
    case MTASTS_INVALID: return "invalid";
    }
    return "unknown";
}

/* ---- character classes (ASCII only; no locale) ------------------------ */

static int is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_wsp(char c) { return c == ' ' || c == '\t'; }

/* sts-ext-name / sts-policy-ext-name: (ALPHA / DIGIT) *31(ALPHA / DIGIT /
 * "_" / "-" / "."). */
static int ext_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 32 || !(is_alpha(s[0]) || is_digit(s[0])))
        return 0;
    for (size_t i = 1; i < len; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '-' || s[i] == '.'))
            return 0;
    return 1;
}

/* sts-ext-value: 1*(%x21-3A / %x3C / %x3E-7E): visible, no "=" or ";". */
static int txt_ext_value_ok(const char *s, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7e || c == '=' || c == ';')
            return 0;
    }
    return 1;
}

/* ---- TXT record -------------------------------------------------------- */

static const char txt_version[] = "v=STSv1";

/* One "name=value" field of the record (already cut at ";" and trimmed). */
static int txt_field(const char *f, size_t len, mtasts_txt *out, int *have_id,
                     const char **reason)
{
    const char *eq = memchr(f, '=', len);
    size_t name_len, value_len;
    const char *value;
    if (!eq) {
        *reason = "a field of the MTA-STS TXT record has no '='";
        return -1;
    }
    name_len = (size_t)(eq - f);
    value = eq + 1;
    value_len = len - name_len - 1;
    if (name_len == 2 && memcmp(f, "id", 2) == 0) {
        if (*have_id) {
            *reason = "the MTA-STS TXT record has two id fields";
            return -1;
        }
        if (value_len == 0 || value_len > MTASTS_ID_MAX) {
            *reason = "the MTA-STS id must be 1 to 32 letters and digits";
            return -1;
        }
        for (size_t i = 0; i < value_len; i++)
            if (!is_alpha(value[i]) && !is_digit(value[i])) {
                *reason = "the MTA-STS id must be 1 to 32 letters and digits";
                return -1;
            }
        memcpy(out->id, value, value_len);
        out->id[value_len] = '\0';
        *have_id = 1;
        return 0;
    }
    if (!ext_name_ok(f, name_len) || !txt_ext_value_ok(value, value_len)) {
        *reason = "the MTA-STS TXT record has a malformed field";
        return -1;
    }
    return 0; /* extensions are allowed and ignored */
}

int mtasts_txt_parse(const char *record, size_t len, mtasts_txt *out, const char **reason)
{
    size_t vlen = sizeof txt_version - 1, pos;
    int have_id = 0;
    memset(out, 0, sizeof *out);
    /* Case-sensitive (%s in the ABNF), and the version comes first. */
    if (len < vlen || memcmp(record, txt_version, vlen) != 0) {
        *reason = "the TXT record does not start with v=STSv1";
        return -1;
    }
    pos = vlen;
    while (pos < len) {
        size_t start, end;
        /* sts-sep = *WSP ";" *WSP */
        while (pos < len && is_wsp(record[pos]))
            pos++;
        if (pos == len)
            break;
        if (record[pos] != ';') {
            *reason = "the fields of the MTA-STS TXT record must be separated by ';'";
            return -1;
        }
        pos++;
        while (pos < len && is_wsp(record[pos]))
            pos++;
        if (pos == len)
            break; /* a trailing separator is allowed */
        start = pos;
        while (pos < len && record[pos] != ';' && !is_wsp(record[pos]))
            pos++;
        end = pos;
        if (end == start) {
            *reason = "the MTA-STS TXT record has an empty field";
            return -1;
        }
        if (txt_field(record + start, end - start, out, &have_id, reason) != 0)
            return -1;
    }
    if (!have_id) {
        *reason = "the MTA-STS TXT record has no id";
        return -1;
    }
    return 0;
}

int mtasts_txt_select(char *const *records, size_t count, mtasts_txt *out,
                      const char **reason)
{
    const char *chosen = NULL;
    size_t found = 0;
    for (size_t i = 0; i < count; i++) {
        const char *r = records[i];
        size_t n = strlen(r), j = sizeof txt_version - 1;
        if (n < j || memcmp(r, txt_version, j) != 0)
            continue;
        /* "v=STSv1;" possibly with spaces before the ';' (sts-sep). */
        while (j < n && is_wsp(r[j]))
            j++;
        if (j < n && r[j] != ';')
            continue;
        chosen = r;
        found++;
    }
    if (found == 0) {
        *reason = "no TXT record starts with v=STSv1";
        return -1;
    }
    if (found > 1) {
        *reason = "more than one MTA-STS TXT record";
        return -1;
    }
    return mtasts_txt_parse(chosen, strlen(chosen), out, reason);
}

/* ---- policy file ------------------------------------------------------- */

typedef struct {
    int version, mode, max_age;   /* seen counts */
} policy_seen;

static int parse_max_age(const char *v, size_t len, uint32_t *out)
{
    uint64_t n = 0;
    if (len == 0 || len > 10)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(v[i]))
            return -1;
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    /* Larger values are valid syntax; the RFC caps what senders keep. */
    *out = n > MTASTS_MAX_AGE_LIMIT ? MTASTS_MAX_AGE_LIMIT : (uint32_t)n;
    return 0;
}

static int policy_mx(const char *v, size_t len, mtasts_policy *out, const char **reason)
{
    char raw[DOMAIN_BUF];
    if (len >= sizeof raw) {
        *reason = "an mx pattern is too long";
        return -1;
    }
    memcpy(raw, v, len);
    raw[len] = '\0';
    if (out->mx_count == MTASTS_MX_MAX) {
        *reason = "the policy has more than 32 mx lines";
        return -1;
    }
    if (domain_pattern_normalize(raw, out->mx[out->mx_count], reason) != 0)
        return -1;
    out->mx_count++;
    return 0;
}

/* One "key: value" line, value already trimmed of trailing white space. */
static int policy_field(const char *key, size_t klen, const char *v, size_t vlen,
                        mtasts_policy *out, policy_seen *seen, const char **reason)
{
#define KEY_IS(lit) (klen == sizeof(lit) - 1 && memcmp(key, lit, klen) == 0)
    if (KEY_IS("version")) {
        if (seen->version++ || vlen != 5 || memcmp(v, "STSv1", 5) != 0) {
            *reason = "the policy needs exactly one line \"version: STSv1\"";
            return -1;
        }
    } else if (KEY_IS("mode")) {
        char buf[8];
        mtasts_mode mode;
        if (seen->mode++ || vlen >= sizeof buf) {
            *reason = "the policy needs exactly one mode: enforce, testing or none";
            return -1;
        }
        memcpy(buf, v, vlen);
        buf[vlen] = '\0';
        if (mtasts_mode_parse(buf, &mode) != 0) {
            *reason = "the policy needs exactly one mode: enforce, testing or none";
            return -1;
        }
        out->mode = mode;
    } else if (KEY_IS("max_age")) {
        if (seen->max_age++ || parse_max_age(v, vlen, &out->max_age) != 0) {
            *reason = "the policy needs exactly one max_age of 1 to 10 digits";
            return -1;
        }
    } else if (KEY_IS("mx")) {
        return policy_mx(v, vlen, out, reason);
    } else if (!ext_name_ok(key, klen)) {
        *reason = "a policy line has a malformed key";
        return -1;
    }
    return 0; /* unknown keys are extensions: ignored */
#undef KEY_IS
}

/* One line without its terminator. Empty lines are tolerated (policies often
 * end with one). */
static int policy_line(const char *s, size_t len, mtasts_policy *out, policy_seen *seen,
                       const char **reason)
{
    const char *colon;
    size_t klen, vstart;
    if (len == 0)
        return 0;
    colon = memchr(s, ':', len);
    if (!colon) {
        *reason = "a policy line is not \"key: value\"";
        return -1;
    }
    klen = (size_t)(colon - s);
    vstart = klen + 1;
    while (vstart < len && is_wsp(s[vstart]))
        vstart++;
    while (len > vstart && is_wsp(s[len - 1]))
        len--;
    for (size_t i = vstart; i < len; i++)
        if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
            *reason = "a policy line holds a control character";
            return -1;
        }
    return policy_field(s, klen, s + vstart, len - vstart, out, seen, reason);
}

int mtasts_policy_parse(const char *text, size_t len, mtasts_policy *out,
                        const char **reason, size_t *line)
{
    policy_seen seen = { 0, 0, 0 };
    size_t pos = 0, lineno = 0;
    memset(out, 0, sizeof *out);
    if (line)
        *line = 0;
    if (len > MTASTS_BODY_MAX) {
        *reason = "the policy is larger than 64 KB";
        return -1;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len, stop = end;
        lineno++;
        if (stop > pos && text[stop - 1] == '\r')
            stop--;
        if (policy_line(text + pos, stop - pos, out, &seen, reason) != 0) {
            if (line)
                *line = lineno;
            return -1;
        }
        pos = nl ? end + 1 : len;
    }
    if (!seen.version || !seen.mode || !seen.max_age) {
        *reason = "the policy lacks version, mode or max_age";
        return -1;
    }
    if (out->mode != MTASTS_MODE_NONE && out->mx_count == 0) {
        *reason = "the policy has no mx line";
        return -1;
    }
    return 0;
}

/* ---- mx matching and storage ------------------------------------------ */

static int mx_pattern_matches(const char *pattern, const char *host)
{
    const char *dot;
    if (pattern[0] != '*')
        return strcmp(pattern, host) == 0;
    /* "*.example.com": the host minus its first label is example.com. */
    dot = strchr(host, '.');
    return dot && dot != host && strcmp(dot + 1, pattern + 2) == 0;
}

int mtasts_mx_allowed(const mtasts_policy *policy, const char *mx_host)
{
    char host[DOMAIN_BUF];
    const char *why;
    if (domain_normalize(mx_host, host, &why) != 0)
        return 0;
    for (size_t i = 0; i < policy->mx_count; i++)
        if (mx_pattern_matches(policy->mx[i], host))
            return 1;
    return 0;
}

int mtasts_mx_join(const mtasts_policy *policy, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < policy->mx_count; i++) {
        size_t n = strlen(policy->mx[i]);
        if (used + n + 2 > len)
            return -1;
        if (i > 0)
            buf[used++] = '\n';
        memcpy(buf + used, policy->mx[i], n + 1);
        used += n;
    }
    return 0;
}

int mtasts_mx_split(const char *text, mtasts_policy *policy)
{
    char **patterns = NULL;
    domain_list_error err;
    long n = domain_list_parse(text, &patterns, &err);
    policy->mx_count = 0;
    if (n < 0 || n > MTASTS_MX_MAX) {
        domain_list_free(patterns, n < 0 ? 0 : n);
        return -1;
    }
    for (long i = 0; i < n; i++)
        snprintf(policy->mx[i], DOMAIN_BUF, "%s", patterns[i]);
    policy->mx_count = (size_t)n;
    domain_list_free(patterns, n);
    return 0;
}

/* ---- discovery and fetch ---------------------------------------------- */

mtasts_status mtasts_discover(const char *domain, const mtasts_options *opt,
                              uint64_t deadline_ms, mtasts_txt *out, char *err,
                              size_t errlen)
{
    char name[DOMAIN_BUF + 16];
    dns_txt_list txt;
    const char *why = NULL;
    mtasts_status st;
    snprintf(name, sizeof name, "_mta-sts.%s", domain);
    dns_lookup_txt(opt->dns_servers, name, deadline_ms, &txt);
    switch (txt.status) {
    case DNS_OK:
        st = mtasts_txt_select(txt.records, txt.count, out, &why) == 0 ? MTASTS_OK
                                                                       : MTASTS_NONE;
        if (st != MTASTS_OK)
            snprintf(err, errlen, "%s: %s", name, why);
        break;
    case DNS_NODATA:
    case DNS_NXDOMAIN:
        snprintf(err, errlen, "%s: no TXT record", name);
        st = MTASTS_NONE;
        break;
    default:
        snprintf(err, errlen, "%s: %s", name, txt.error[0] ? txt.error
                                                           : dns_status_name(txt.status));
        st = MTASTS_DNS_FAILED;
        break;
    }
    dns_txt_free(&txt);
    return st;
}

mtasts_status mtasts_fetch(const char *domain, const mtasts_options *opt,
                           mtasts_policy *out, char *err, size_t errlen)
{
    char host[DOMAIN_BUF + 16];
    https_request req;
    https_response resp;
    const char *why = NULL;
    size_t line = 0;
    mtasts_status st = MTASTS_OK;
    unsigned timeout = opt->timeout_ms ? opt->timeout_ms : MTASTS_TIMEOUT_MS;

    snprintf(host, sizeof host, "mta-sts.%s", domain);
    https_request_init(&req);
    req.host = host;
    req.path = "/.well-known/mta-sts.txt";
    req.connect_ip = opt->connect_ip;
    req.dns_servers = opt->dns_servers;
    req.port = opt->port ? opt->port : 443;
    req.ca_file = opt->ca_file;
    req.deadline_ms = plat_now_ms() + timeout;
    req.body_max = MTASTS_BODY_MAX;
    req.content_type = "text/plain";
    if (https_get(&req, &resp) != HTTPS_OK) {
        snprintf(err, errlen, "https://%s%s: %s", host, req.path, resp.error);
        https_response_free(&resp);
        return MTASTS_FETCH_FAILED;
    }
    if (mtasts_policy_parse(resp.body, resp.body_len, out, &why, &line) != 0) {
        if (line)
            snprintf(err, errlen, "policy of %s, line %lu: %s", domain,
                     (unsigned long)line, why);
        else
            snprintf(err, errlen, "policy of %s: %s", domain, why);
        st = MTASTS_INVALID;
    }
    https_response_free(&resp);
    return st;
}
