/* iis_metabase: see iis_metabase.h. Two passes: a bounded tokenizer
 * collects the SMTP nodes (element kind, Location, raw property values),
 * then the nodes become a model (numbers parsed, inheritance applied,
 * domains attached to their servers). */
#include "iis_metabase.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_NAME_MAX 64        /* element and attribute names */
#define MB_DEPTH_MAX 32       /* a real file nests 3 deep */
#define MB_VALUE_MAX 4096     /* a kept value, decoded */
#define MB_LOCATION_MAX 512
#define MB_NODES_MAX 20000    /* SMTP service, servers and domain entries */

/* ---- the properties read ------------------------------------------------ */

typedef enum {
    P_COMMENT, P_STATE, P_BINDINGS, P_FQDN, P_DEFAULT_DOMAIN, P_REMOTE_PORT,
    P_SMART_HOST, P_SMART_HOST_TYPE, P_ROUTE_ACTION, P_ALWAYS_USE_SSL, P_PICKUP,
    P_DROP, P_ROUTE_STRING, P_COUNT
} prop;

/* Metabase names; the IDs are those Microsoft documents for the properties
 * a <Custom> child may carry (0: match by name only). */
static const struct {
    const char *name;
    unsigned id;
} props[P_COUNT] = {
    [P_COMMENT] = { "ServerComment", 0 },
    [P_STATE] = { "ServerState", 0 },
    [P_BINDINGS] = { "ServerBindings", 0 },
    [P_FQDN] = { "FullyQualifiedDomainName", 0 },
    [P_DEFAULT_DOMAIN] = { "DefaultDomain", 0 },
    [P_REMOTE_PORT] = { "RemoteSmtpPort", 0 },
    [P_SMART_HOST] = { "SmartHost", 0 },
    [P_SMART_HOST_TYPE] = { "SmartHostType", 36905 },
    [P_ROUTE_ACTION] = { "RouteAction", 36946 },
    [P_ALWAYS_USE_SSL] = { "AlwaysUseSsl", 0 },
    [P_PICKUP] = { "PickupDirectory", 0 },
    [P_DROP] = { "DropDirectory", 0 },
    [P_ROUTE_STRING] = { "RouteActionString", 36947 },
};

static int ascii_ieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b - 'A' + 'a') : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

static int prop_by_name(const char *name)
{
    for (int i = 0; i < P_COUNT; i++)
        if (ascii_ieq(props[i].name, name))
            return i;
    return -1;
}

static int prop_by_id(unsigned id)
{
    for (int i = 0; i < P_COUNT && id; i++)
        if (props[i].id == id)
            return i;
    return -1;
}

/* ---- pass 1: the tokenizer ----------------------------------------------- */

typedef enum { NODE_NONE = 0, NODE_SERVICE, NODE_SERVER, NODE_DOMAIN } node_kind;

typedef struct {
    node_kind kind;
    char location[MB_LOCATION_MAX];
    char *value[P_COUNT];   /* decoded; NULL when absent */
} mb_node;

typedef struct {
    const char *start, *p, *end;
    char *err;
    size_t errlen;
    struct {
        char name[MB_NAME_MAX + 1];
        long node;          /* index into nodes, -1 when not an SMTP node */
    } stack[MB_DEPTH_MAX];
    size_t depth;
    int root_seen;
    mb_node *nodes;
    size_t n_nodes, cap_nodes;
    char scratch[MB_VALUE_MAX + 1];
} parser;

static int line_of(const parser *ps, const char *at)
{
    int line = 1;
    for (const char *q = ps->start; q < at && q < ps->end; q++)
        line += *q == '\n';
    return line;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail_at(parser *ps, const char *at, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "line %d: %s", line_of(ps, at), what);
    return -1;
}

static size_t left(const parser *ps) { return (size_t)(ps->end - ps->p); }

static int at_text(const parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    return left(ps) >= n && memcmp(ps->p, lit, n) == 0;
}

/* Moves past the next occurrence of lit; -1 at the end of the input. */
static int skip_past(parser *ps, const char *lit)
{
    size_t n = strlen(lit);
    for (const char *q = ps->p; (size_t)(ps->end - q) >= n; q++)
        if (memcmp(q, lit, n) == 0) {
            ps->p = q + n;
            return 0;
        }
    return -1;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static void skip_space(parser *ps)
{
    while (ps->p < ps->end && is_space(*ps->p))
        ps->p++;
}

static int is_name_char(char c, int first)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c == ':')
        return 1;
    return !first && ((c >= '0' && c <= '9') || c == '-' || c == '.');
}

static int read_name(parser *ps, char name[MB_NAME_MAX + 1])
{
    const char *from = ps->p;
    size_t n = 0;
    while (ps->p < ps->end && is_name_char(*ps->p, n == 0)) {
        if (n == MB_NAME_MAX)
            return fail_at(ps, from, "a name longer than %d characters", MB_NAME_MAX);
        name[n++] = *ps->p++;
    }
    name[n] = '\0';
    if (ps->p == ps->end)
        return fail_at(ps, from, "the file ends inside a tag (truncated?)");
    return n ? 0 : fail_at(ps, from, "a tag without a valid name");
}

/* Appends code point cp as UTF-8; -1 when it is not a character. */
static int put_utf8(unsigned long cp, char *out, size_t cap, size_t *n)
{
    unsigned char b[4];
    size_t len;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return -1;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp;
        len = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6));
        b[1] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12));
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18));
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        len = 4;
    }
    if (*n + len > cap)
        return -2;
    memcpy(out + *n, b, len);
    *n += len;
    return 0;
}

/* c's value as a decimal digit, or a hex digit when hex; -1 when it is
 * neither (the MetaBase's numbers and character references share it). */
static int digit_value(char c, int hex)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (hex && c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (hex && c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "&#65;", "&#x41;": the code point, or -1. */
static long char_ref(const char *ref, size_t len)
{
    int hex = len > 1 && ref[1] == 'x';
    unsigned long v = 0;
    size_t i = hex ? 2 : 1;
    if (len <= i || ref[0] != '#')
        return -1;
    for (; i < len; i++) {
        int d = digit_value(ref[i], hex);
        if (d < 0)
            return -1;
        v = v * (hex ? 16u : 10u) + (unsigned)d;
        if (v > 0x10FFFF)
            return -1;
    }
    return (long)v;
}

/* One entity at raw (just past '&'); the number of bytes it took, or -1. */
static long decode_entity(parser *ps, const char *raw, const char *raw_end, char *out,
                          size_t cap, size_t *n)
{
    static const struct {
        const char *name;
        char c;
    } named[] = { { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' } };
    const char *semi = memchr(raw, ';', (size_t)(raw_end - raw));
    if (!semi || semi - raw > 10)
        return fail_at(ps, raw, "an '&' that starts no entity");
    size_t len = (size_t)(semi - raw);
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (strlen(named[i].name) == len && memcmp(named[i].name, raw, len) == 0) {
            if (*n + 1 > cap)
                return fail_at(ps, raw, "a value longer than %d bytes", MB_VALUE_MAX);
            out[(*n)++] = named[i].c;
            return (long)len + 1;
        }
    long cp = char_ref(raw, len);
    int rc = cp < 0 ? -1 : put_utf8((unsigned long)cp, out, cap, n);
    if (rc == -2)
        return fail_at(ps, raw, "a value longer than %d bytes", MB_VALUE_MAX);
    if (rc != 0)
        return fail_at(ps, raw, "an unknown entity '&%.*s;'", (int)(len > 12 ? 12 : len), raw);
    return (long)len + 1;
}

/* Decodes the raw attribute value [raw, raw_end) into ps->scratch. */
static int decode_value(parser *ps, const char *raw, const char *raw_end)
{
    size_t n = 0;
    while (raw < raw_end) {
        if (*raw == '&') {
            long used = decode_entity(ps, raw + 1, raw_end, ps->scratch, MB_VALUE_MAX, &n);
            if (used < 0)
                return -1;
            raw += 1 + used;
            continue;
        }
        if (*raw == '\0')
            return fail_at(ps, raw, "a NUL byte in a value");
        if (n == MB_VALUE_MAX)
            return fail_at(ps, raw, "a value longer than %d bytes", MB_VALUE_MAX);
        ps->scratch[n++] = *raw++;
    }
    ps->scratch[n] = '\0';
    return 0;
}

/* One attribute: name, '=', quoted value (left raw in *raw, *raw_end). */
static int read_attribute(parser *ps, char name[MB_NAME_MAX + 1], const char **raw,
                          const char **raw_end)
{
    if (read_name(ps, name) != 0)
        return -1;
    skip_space(ps);
    if (ps->p == ps->end || *ps->p != '=')
        return fail_at(ps, ps->p, "attribute '%s' has no '='", name);
    ps->p++;
    skip_space(ps);
    if (ps->p == ps->end || (*ps->p != '"' && *ps->p != '\''))
        return fail_at(ps, ps->p, "attribute '%s' has no quoted value", name);
    char quote = *ps->p++;
    *raw = ps->p;
    while (ps->p < ps->end && *ps->p != quote) {
        if (*ps->p == '<')
            return fail_at(ps, ps->p, "a '<' inside the value of '%s'", name);
        ps->p++;
    }
    if (ps->p == ps->end)
        return fail_at(ps, *raw, "the value of '%s' is not closed (truncated?)", name);
    *raw_end = ps->p++;
    return 0;
}

static node_kind kind_of_element(const char *name)
{
    if (strcmp(name, "IIsSmtpService") == 0)
        return NODE_SERVICE;
    if (strcmp(name, "IIsSmtpServer") == 0)
        return NODE_SERVER;
    if (strcmp(name, "IIsSmtpDomain") == 0)
        return NODE_DOMAIN;
    return NODE_NONE;
}

static mb_node *new_node(parser *ps, node_kind kind, const char *at)
{
    if (ps->n_nodes == MB_NODES_MAX) {
        fail_at(ps, at, "more than %d SMTP entries", MB_NODES_MAX);
        return NULL;
    }
    if (ps->n_nodes == ps->cap_nodes) {
        size_t cap = ps->cap_nodes ? ps->cap_nodes * 2 : 16;
        mb_node *grown = realloc(ps->nodes, cap * sizeof *grown);
        if (!grown) {
            fail_at(ps, at, "out of memory");
            return NULL;
        }
        ps->nodes = grown;
        ps->cap_nodes = cap;
    }
    mb_node *n = &ps->nodes[ps->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

/* Keeps the decoded value of property p on node n; the first one stands. */
static int keep_value(parser *ps, mb_node *n, int p, const char *at)
{
    if (n->value[p])
        return 0;
    n->value[p] = malloc(strlen(ps->scratch) + 1);
    if (!n->value[p])
        return fail_at(ps, at, "out of memory");
    memcpy(n->value[p], ps->scratch, strlen(ps->scratch) + 1);
    return 0;
}

/* What a <Custom Name= ID= Value=> child says, applied to its parent. */
typedef struct {
    char name[MB_NAME_MAX + 1];
    unsigned long id;
    int has_value;
    char value[MB_VALUE_MAX + 1];
} custom_prop;

static int custom_attribute(parser *ps, custom_prop *c, const char *attr, const char *raw,
                            const char *raw_end)
{
    if (strcmp(attr, "Name") != 0 && strcmp(attr, "ID") != 0 && strcmp(attr, "Value") != 0)
        return 0;
    if (decode_value(ps, raw, raw_end) != 0)
        return -1;
    if (strcmp(attr, "Name") == 0) {
        /* A longer name is no property of ours. */
        size_t n = strlen(ps->scratch);
        if (n < sizeof c->name)
            memcpy(c->name, ps->scratch, n + 1);
    } else if (strcmp(attr, "ID") == 0) {
        char *end;
        c->id = strtoul(ps->scratch, &end, 10);
        if (*end)
            c->id = 0;
    } else {
        memcpy(c->value, ps->scratch, strlen(ps->scratch) + 1);
        c->has_value = 1;
    }
    return 0;
}

static int apply_custom(parser *ps, long parent, const custom_prop *c, const char *at)
{
    int p = c->name[0] ? prop_by_name(c->name) : -1;
    if (p < 0)
        p = prop_by_id((unsigned)c->id);
    if (parent < 0 || p < 0 || !c->has_value)
        return 0;
    memcpy(ps->scratch, c->value, strlen(c->value) + 1);
    return keep_value(ps, &ps->nodes[parent], p, at);
}

static int node_attribute(parser *ps, mb_node *n, const char *attr, const char *raw,
                          const char *raw_end)
{
    int is_location = strcmp(attr, "Location") == 0;
    int p = is_location ? -1 : prop_by_name(attr);
    if (!is_location && p < 0)
        return 0;
    if (decode_value(ps, raw, raw_end) != 0)
        return -1;
    if (!is_location)
        return keep_value(ps, n, p, raw);
    if (strlen(ps->scratch) >= sizeof n->location)
        return fail_at(ps, raw, "a Location longer than %d characters", MB_LOCATION_MAX - 1);
    memcpy(n->location, ps->scratch, strlen(ps->scratch) + 1);
    return 0;
}

/* The attributes of a start tag, up to '>' or "/>"; *empty for "/>". */
static int read_attributes(parser *ps, const char *element, mb_node *n, custom_prop *custom,
                           int *empty)
{
    for (;;) {
        const char *before = ps->p;
        skip_space(ps);
        if (ps->p == ps->end)
            return fail_at(ps, before, "<%s> is not finished (truncated?)", element);
        if (*ps->p == '>' || at_text(ps, "/>")) {
            *empty = *ps->p == '/';
            ps->p += *empty ? 2 : 1;
            return 0;
        }
        if (ps->p == before)
            return fail_at(ps, ps->p, "attributes of <%s> not separated by spaces", element);
        char attr[MB_NAME_MAX + 1];
        const char *raw = NULL, *raw_end = NULL;
        if (read_attribute(ps, attr, &raw, &raw_end) != 0)
            return -1;
        int rc = 0;
        if (n)
            rc = node_attribute(ps, n, attr, raw, raw_end);
        else if (custom)
            rc = custom_attribute(ps, custom, attr, raw, raw_end);
        if (rc != 0)
            return -1;
    }
}

static int start_tag(parser *ps)
{
    const char *at = ps->p - 1;
    char element[MB_NAME_MAX + 1];
    if (read_name(ps, element) != 0)
        return -1;
    if (ps->depth == 0 && ps->root_seen)
        return fail_at(ps, at, "a second top-level element <%s>", element);
    node_kind kind = kind_of_element(element);
    long parent = ps->depth ? ps->stack[ps->depth - 1].node : -1;
    long index = -1;
    mb_node *n = NULL;
    custom_prop custom;
    int is_custom = kind == NODE_NONE && parent >= 0 && strcmp(element, "Custom") == 0;
    if (kind != NODE_NONE) {
        if (!(n = new_node(ps, kind, at)))
            return -1;
        index = (long)(ps->n_nodes - 1);
    }
    memset(&custom, 0, sizeof custom);
    int empty = 0;
    if (read_attributes(ps, element, n, is_custom ? &custom : NULL, &empty) != 0)
        return -1;
    if (is_custom && apply_custom(ps, parent, &custom, at) != 0)
        return -1;
    ps->root_seen = 1;
    if (empty)
        return 0;
    if (ps->depth == MB_DEPTH_MAX)
        return fail_at(ps, at, "elements nested deeper than %d", MB_DEPTH_MAX);
    memcpy(ps->stack[ps->depth].name, element, sizeof element);
    ps->stack[ps->depth].node = index;
    ps->depth++;
    return 0;
}

static int end_tag(parser *ps)
{
    const char *at = ps->p - 2;
    char element[MB_NAME_MAX + 1];
    if (read_name(ps, element) != 0)
        return -1;
    skip_space(ps);
    if (ps->p == ps->end || *ps->p != '>')
        return fail_at(ps, at, "</%s> is not finished", element);
    ps->p++;
    if (ps->depth == 0)
        return fail_at(ps, at, "</%s> closes nothing", element);
    if (strcmp(ps->stack[ps->depth - 1].name, element) != 0)
        return fail_at(ps, at, "</%s> closes <%s> (wrong nesting)", element,
                       ps->stack[ps->depth - 1].name);
    ps->depth--;
    return 0;
}

/* Comments, processing instructions and CDATA are skipped; a document
 * type declaration is refused (MetaBase.xml has none, and its entities
 * are not expanded here). */
static int markup(parser *ps)
{
    const char *at = ps->p;
    if (at_text(ps, "<!--"))
        return skip_past(ps, "-->") == 0 ? 0 : fail_at(ps, at, "a comment is not closed");
    if (at_text(ps, "<?"))
        return skip_past(ps, "?>") == 0 ? 0 : fail_at(ps, at, "'<?' is not closed");
    if (at_text(ps, "<![CDATA["))
        return skip_past(ps, "]]>") == 0 ? 0 : fail_at(ps, at, "CDATA is not closed");
    if (at_text(ps, "<!"))
        return fail_at(ps, at, "a document type declaration (not expected in MetaBase.xml)");
    ps->p++;
    if (ps->p < ps->end && *ps->p == '/') {
        ps->p++;
        return end_tag(ps);
    }
    return start_tag(ps);
}

static int tokenize(parser *ps)
{
    if (at_text(ps, "\xEF\xBB\xBF"))
        ps->p += 3;
    while (ps->p < ps->end) {
        const char *lt = memchr(ps->p, '<', left(ps));
        if (!lt)
            break;
        ps->p = lt;
        if (markup(ps) != 0)
            return -1;
    }
    if (ps->depth > 0)
        return fail_at(ps, ps->end, "<%s> is not closed (truncated?)",
                       ps->stack[ps->depth - 1].name);
    if (!ps->root_seen)
        return fail_at(ps, ps->end, "no XML element at all");
    return 0;
}

/* ---- pass 2: nodes to a model ------------------------------------------- */

typedef struct {
    char *err;
    size_t errlen;
    unsigned left_out;         /* entries not taken, with the first reason: */
    char first_left_out[200];
} builder;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void leave_out(builder *b, const char *fmt, ...)
{
    if (b->left_out++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(b->first_left_out, sizeof b->first_left_out, fmt, ap);
        va_end(ap);
    }
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int bad_value(builder *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->err, b->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* "/LM/SmtpSvc", "/LM/SmtpSvc/N", "/LM/SmtpSvc/N/Domain/NAME": the kind
 * the location names, with N and NAME; NODE_NONE for anything else. */
static node_kind parse_location(const char *loc, int *instance, const char **domain)
{
    static const char root[] = "/lm/smtpsvc";
    size_t n = sizeof root - 1;
    char head[sizeof root];
    if (strlen(loc) < n)
        return NODE_NONE;
    memcpy(head, loc, n);
    head[n] = '\0';
    if (!ascii_ieq(head, root))
        return NODE_NONE;
    loc += n;
    if (*loc == '\0' || strcmp(loc, "/") == 0)
        return NODE_SERVICE;
    if (*loc++ != '/' || *loc < '1' || *loc > '9')
        return NODE_NONE;
    long v = 0;
    while (*loc >= '0' && *loc <= '9' && v <= 100000000)
        v = v * 10 + (*loc++ - '0');
    if (v > 100000000)
        return NODE_NONE;
    *instance = (int)v;
    if (*loc == '\0' || strcmp(loc, "/") == 0)
        return NODE_SERVER;
    static const char dom[] = "/domain/";
    char mid[sizeof dom];
    if (strlen(loc) <= sizeof dom - 1)
        return NODE_NONE;
    memcpy(mid, loc, sizeof dom - 1);
    mid[sizeof dom - 1] = '\0';
    if (!ascii_ieq(mid, dom))
        return NODE_NONE;
    *domain = loc + sizeof dom - 1;
    return NODE_DOMAIN;
}

static void trim(const char *s, const char **from, size_t *len)
{
    size_t n = strlen(s);
    while (n && is_space(*s)) {
        s++;
        n--;
    }
    while (n && is_space(s[n - 1]))
        n--;
    *from = s;
    *len = n;
}

static int parse_dword(builder *b, const char *where, int p, const char *text, unsigned *out)
{
    const char *s;
    size_t n;
    trim(text, &s, &n);
    int hex = n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    unsigned long long v = 0;
    size_t i = hex ? 2 : 0;
    if (n == i || n - i > (hex ? 8u : 10u))
        return bad_value(b, "%s of %s is not a number: '%.40s'", props[p].name, where, text);
    for (; i < n; i++) {
        int d = digit_value(s[i], hex);
        if (d < 0)
            return bad_value(b, "%s of %s is not a number: '%.40s'", props[p].name, where, text);
        v = v * (hex ? 16u : 10u) + (unsigned)d;
    }
    if (v > 0xFFFFFFFFull)
        return bad_value(b, "%s of %s is out of range: '%.40s'", props[p].name, where, text);
    *out = (unsigned)v;
    return 0;
}

static int parse_bool(builder *b, const char *where, int p, const char *text, int *out)
{
    const char *s;
    size_t n;
    char word[8];
    trim(text, &s, &n);
    if (n >= sizeof word)
        n = sizeof word - 1;
    memcpy(word, s, n);
    word[n] = '\0';
    if (ascii_ieq(word, "true") || strcmp(word, "1") == 0)
        *out = 1;
    else if (ascii_ieq(word, "false") || strcmp(word, "0") == 0)
        *out = 0;
    else
        return bad_value(b, "%s of %s is not TRUE or FALSE: '%.40s'", props[p].name, where, text);
    return 0;
}

static int copy_string(builder *b, const char *where, int p, const char *text, char *dst,
                       size_t cap)
{
    const char *s;
    size_t n;
    trim(text, &s, &n);
    if (n >= cap)
        return bad_value(b, "%s of %s is longer than %lu characters", props[p].name, where,
                         (unsigned long)cap - 1);
    memcpy(dst, s, n);
    dst[n] = '\0';
    return 0;
}

/* Multi-string: one entry per line. */
static int parse_bindings(builder *b, const char *where, const char *text, iis_server *s)
{
    s->n_ports = 0;
    while (*text) {
        size_t len = strcspn(text, "\r\n");
        const char *entry;
        size_t elen;
        char line[MB_VALUE_MAX + 1];
        memcpy(line, text, len);
        line[len] = '\0';
        trim(line, &entry, &elen);
        int rc = elen ? iis_server_add_binding(s, entry, elen) : 0;
        if (rc < 0)
            return bad_value(b, "ServerBindings of %s: '%.*s' is not IP:PORT:HOST with a port",
                             where, (int)(elen > 60 ? 60 : elen), entry);
        if (rc > 0)
            leave_out(b, "%s: more than %d ServerBindings", where, IIS_MAX_PORTS);
        text += len;
        text += strspn(text, "\r\n");
    }
    return 0;
}

/* The server's value of p, or the service's where the server has none. */
static const char *inherited(const mb_node *server, const mb_node *service, int p)
{
    if (server && server->value[p])
        return server->value[p];
    return service ? service->value[p] : NULL;
}

static int numeric_props(builder *b, const char *where, const mb_node *node,
                         const mb_node *service, iis_server *s)
{
    const char *v;
    unsigned n;
    if ((v = inherited(node, service, P_STATE))) {
        if (parse_dword(b, where, P_STATE, v, &n) != 0)
            return -1;
        s->state = n <= IIS_STATE_CONTINUING ? (iis_state)n : IIS_STATE_UNKNOWN;
    }
    if ((v = inherited(node, service, P_REMOTE_PORT))) {
        if (parse_dword(b, where, P_REMOTE_PORT, v, &n) != 0)
            return -1;
        if (n == 0 || n > 65535)
            return bad_value(b, "RemoteSmtpPort of %s is not a port: %u", where, n);
        s->remote_port = n;
    }
    if ((v = inherited(node, service, P_SMART_HOST_TYPE))) {
        if (parse_dword(b, where, P_SMART_HOST_TYPE, v, &n) != 0)
            return -1;
        if (n > IIS_SMART_HOST_ALWAYS)
            leave_out(b, "%s: SmartHostType %u is not known (taken as none)", where, n);
        s->smart_host_type = n <= IIS_SMART_HOST_ALWAYS ? (iis_smart_host_type)n
                                                        : IIS_SMART_HOST_NONE;
    }
    if ((v = inherited(node, service, P_ROUTE_ACTION)) &&
        parse_dword(b, where, P_ROUTE_ACTION, v, &s->route_action) != 0)
        return -1;
    if ((v = inherited(node, service, P_ALWAYS_USE_SSL)) &&
        parse_bool(b, where, P_ALWAYS_USE_SSL, v, &s->always_use_ssl) != 0)
        return -1;
    return 0;
}

static int text_props(builder *b, const char *where, const mb_node *node,
                      const mb_node *service, iis_server *s)
{
    const struct {
        int p;
        char *dst;
        size_t cap;
    } texts[] = {
        { P_COMMENT, s->comment, sizeof s->comment },
        { P_FQDN, s->fqdn, sizeof s->fqdn },
        { P_SMART_HOST, s->smart_host, sizeof s->smart_host },
        { P_PICKUP, s->pickup_dir, sizeof s->pickup_dir },
        { P_DROP, s->drop_dir, sizeof s->drop_dir },
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        const char *v = inherited(node, service, texts[i].p);
        if (v && copy_string(b, where, texts[i].p, v, texts[i].dst, texts[i].cap) != 0)
            return -1;
    }
    const char *v = inherited(node, service, P_BINDINGS);
    if (v && parse_bindings(b, where, v, s) != 0)
        return -1;
    if ((v = inherited(node, service, P_DEFAULT_DOMAIN))) {
        const char *why;
        const char *t;
        size_t n;
        char name[DOMAIN_BUF * 2];
        trim(v, &t, &n);
        snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name ? n : sizeof name - 1), t);
        if (n && domain_normalize(name, s->default_domain, &why) != 0) {
            s->default_domain[0] = '\0';
            leave_out(b, "%s: DefaultDomain '%.60s': %s", where, name, why);
        }
    }
    return 0;
}

static int build_server(builder *b, const mb_node *node, const mb_node *service, int instance,
                        iis_server *s)
{
    char where[64];
    memset(s, 0, sizeof *s);
    s->instance = instance;
    s->remote_port = 25;
    snprintf(where, sizeof where, "/LM/SmtpSvc/%d", instance);
    if (numeric_props(b, where, node, service, s) != 0 ||
        text_props(b, where, node, service, s) != 0)
        return -1;
    if (s->smart_host_type != IIS_SMART_HOST_NONE && !s->smart_host[0])
        s->smart_host_type = IIS_SMART_HOST_NONE;
    return 0;
}

static int add_domain(builder *b, iis_server *s, const mb_node *node, const char *name)
{
    iis_domain d;
    const char *why;
    memset(&d, 0, sizeof d);
    if (domain_pattern_normalize(name, d.name, &why) != 0) {
        leave_out(b, "%s: '%.60s' %s", node->location, name, why);
        return 0;
    }
    /* A domain entry inherits the server's RouteAction, as ADSI reports. */
    d.route_action = s->route_action;
    if (node->value[P_ROUTE_ACTION] &&
        parse_dword(b, node->location, P_ROUTE_ACTION, node->value[P_ROUTE_ACTION],
                    &d.route_action) != 0)
        return -1;
    if (node->value[P_ROUTE_STRING] &&
        copy_string(b, node->location, P_ROUTE_STRING, node->value[P_ROUTE_STRING],
                    d.route_host, sizeof d.route_host) != 0)
        return -1;
    for (size_t i = 0; i < s->n_domains; i++)
        if (strcmp(s->domains[i].name, d.name) == 0) {
            leave_out(b, "%s: a second entry for %s", node->location, d.name);
            return 0;
        }
    iis_domain *grown = realloc(s->domains, (s->n_domains + 1) * sizeof *grown);
    if (!grown)
        return bad_value(b, "out of memory");
    s->domains = grown;
    s->domains[s->n_domains++] = d;
    return 0;
}

static const mb_node *find_service(const parser *ps)
{
    int instance;
    const char *domain;
    for (size_t i = 0; i < ps->n_nodes; i++)
        if (ps->nodes[i].kind == NODE_SERVICE &&
            parse_location(ps->nodes[i].location, &instance, &domain) == NODE_SERVICE)
            return &ps->nodes[i];
    return NULL;
}

/* The domain entries of one server; an entry for a server the file does
 * not have is left out. */
static int attach_domains(builder *b, const parser *ps, iis_server *s)
{
    for (size_t i = 0; i < ps->n_nodes; i++) {
        int instance = 0;
        const char *name = NULL;
        const mb_node *n = &ps->nodes[i];
        if (n->kind == NODE_DOMAIN &&
            parse_location(n->location, &instance, &name) == NODE_DOMAIN &&
            instance == s->instance && add_domain(b, s, n, name) != 0)
            return -1;
    }
    return 0;
}

static int build_servers(builder *b, const parser *ps, iis_model *m)
{
    const mb_node *service = find_service(ps);
    for (size_t i = 0; i < ps->n_nodes; i++) {
        int instance = 0;
        const char *name = NULL;
        const mb_node *n = &ps->nodes[i];
        node_kind at = parse_location(n->location, &instance, &name);
        if (n->kind != NODE_SERVER)
            continue;
        if (at != NODE_SERVER) {
            leave_out(b, "<IIsSmtpServer> at '%.80s'", n->location);
            continue;
        }
        if (iis_model_server(m, instance)) {
            leave_out(b, "a second <IIsSmtpServer> for /LM/SmtpSvc/%d", instance);
            continue;
        }
        iis_server s;
        int rc = build_server(b, n, service, instance, &s);
        if (rc == 0)
            rc = attach_domains(b, ps, &s);
        if (rc == 0 && iis_model_add_server(m, &s) != 0)
            rc = bad_value(b, "out of memory");
        free(s.domains);
        if (rc != 0)
            return -1;
    }
    for (size_t i = 0; i < ps->n_nodes; i++) {
        int instance = 0;
        const char *name = NULL;
        if (ps->nodes[i].kind == NODE_DOMAIN &&
            parse_location(ps->nodes[i].location, &instance, &name) == NODE_DOMAIN &&
            !iis_model_server(m, instance))
            leave_out(b, "%.120s: no such virtual server", ps->nodes[i].location);
    }
    return 0;
}

static void parser_free(parser *ps)
{
    for (size_t i = 0; i < ps->n_nodes; i++)
        for (int p = 0; p < P_COUNT; p++)
            free(ps->nodes[i].value[p]);
    free(ps->nodes);
    free(ps);
}

iis_model *iis_metabase_parse(const char *text, size_t len, const char *where, char *err,
                              size_t errlen)
{
    char why[256];
    parser *ps = calloc(1, sizeof *ps);
    iis_model *m = NULL;
    if (!ps) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    ps->start = ps->p = text;
    ps->end = text + len;
    ps->err = why;
    ps->errlen = sizeof why;
    builder b = { why, sizeof why, 0, "" };
    why[0] = '\0';
    if (len > IIS_METABASE_MAX_BYTES) {
        snprintf(why, sizeof why, "larger than %u bytes", IIS_METABASE_MAX_BYTES);
    } else if (tokenize(ps) == 0) {
        if (!(m = iis_model_empty("%s", "")))
            snprintf(why, sizeof why, "out of memory");
        else if (build_servers(&b, ps, m) != 0) {
            iis_model_free(m);
            m = NULL;
        }
    }
    parser_free(ps);
    if (!m) {
        snprintf(err, errlen, "%s: %s", where, why);
        return NULL;
    }
    m->origin = IIS_FROM_METABASE;
    snprintf(m->where, sizeof m->where, "%s", where);
    if (m->n_servers == 0)
        snprintf(m->why, sizeof m->why, "%.200s has no SMTP virtual server", where);
    else if (b.left_out)
        snprintf(m->why, sizeof m->why, "%u %s left out; the first: %s", b.left_out,
                 b.left_out == 1 ? "entry" : "entries", b.first_left_out);
    return m;
}

iis_model *iis_metabase_load(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path,
                 errno == ENOENT ? "no such file" : strerror(errno));
        return NULL;
    }
    size_t cap = 64 * 1024, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (len < cap || cap > IIS_METABASE_MAX_BYTES)
            break;
        char *grown = realloc(buf, cap * 2);
        if (!grown) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = grown;
        cap *= 2;
    }
    int read_error = ferror(f);
    fclose(f);
    if (!buf || read_error) {
        snprintf(err, errlen, "%s: %s", path, buf ? "read error" : "out of memory");
        free(buf);
        return NULL;
    }
    iis_model *m = iis_metabase_parse(buf, len, path, err, errlen);
    free(buf);
    return m;
}
