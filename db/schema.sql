-- TLS Router data model. Compiled into the binaries (cmake/EmbedFile.cmake).
--
-- The file is the migration path: it is a series of steps, each starting at
-- a line "-- @version N". A new database runs every step; an existing one
-- runs the steps above its PRAGMA user_version, each step in one
-- transaction, and user_version is set to N after step N. Steps are never
-- edited once released; changes go into a new step at the end.
--
-- The settings rows seed the defaults of core/settings.h, the one list of
-- settings (keys, ranges, defaults, help); a new setting is a line there and
-- a row in a new step here (tests/unit/test_store.c checks they agree).

-- @version 1
-- Settings: one row per key; the defaults live here, so a fresh database is
-- complete and the code never guesses.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

INSERT INTO settings (key, value) VALUES
    ('log_level',          'info'),       -- error|warning|info|debug|full-debug
    ('dns_servers',        ''),           -- HOST[:PORT],...; empty: the system's
    ('probe_port',         '25'),
    ('connect_timeout_ms', '5000'),
    ('reply_timeout_ms',   '10000'),
    ('total_timeout_ms',   '20000');

-- Rules: at most one enabled rule per source virtual server matters (the
-- first by id); the destination is the Plain TCP server's Pickup folder.
CREATE TABLE rules (
    id               INTEGER PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    enabled          INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    source_instance  INTEGER NOT NULL DEFAULT 1 CHECK (source_instance >= 1),
    pickup_dir       TEXT NOT NULL,
    expired_cert     INTEGER NOT NULL DEFAULT 0 CHECK (expired_cert IN (0, 1)),
    created_ms       INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL
);

-- The two per-rule lists of the brief: "Or if recipient domain is in the
-- following list" (force-plain) and "But never redirect email if recipient
-- domain is in the following list" (never-redirect). Patterns are stored
-- normalised (lower case, no trailing dot).
CREATE TABLE rule_domains (
    rule_id  INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
    list     TEXT NOT NULL CHECK (list IN ('force-plain', 'never-redirect')),
    pattern  TEXT NOT NULL,
    PRIMARY KEY (rule_id, list, pattern)
) WITHOUT ROWID;

-- @version 2
-- Probe, cache, journal and log; plus a configuration generation counter so
-- a running engine sees a rule or setting change with one cheap query.
INSERT INTO settings (key, value) VALUES
    ('ehlo_name',           ''),          -- empty: the machine's name
    ('tls_floor',           'auto'),      -- auto|tls1.0|tls1.1|tls1.2|tls1.3
    ('verify_chain',        '0'),         -- IIS default: off
    ('verify_name',         '0'),         -- IIS default: off
    ('ttl_starttls_s',      '86400'),
    ('ttl_no_starttls_s',   '21600'),
    ('ttl_failure_s',       '900'),       -- connect-failed, timeout, dns-failed, ...
    ('ttl_expired_s',       '604800'),    -- expired-certificate cache
    ('journal_max_age_days','30'),
    ('journal_max_rows',    '1000000'),
    ('log_max_rows',        '100000');

CREATE TABLE config_generation (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO config_generation (id, generation) VALUES (1, 1);

CREATE TRIGGER rules_ins AFTER INSERT ON rules
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER rules_upd AFTER UPDATE ON rules
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER rules_del AFTER DELETE ON rules
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER rule_domains_ins AFTER INSERT ON rule_domains
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER rule_domains_del AFTER DELETE ON rule_domains
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER settings_ins AFTER INSERT ON settings
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER settings_upd AFTER UPDATE ON settings
BEGIN UPDATE config_generation SET generation = generation + 1 WHERE id = 1; END;

-- Probe results per domain, so a restart of the SMTP service does not
-- re-probe every domain. expires_ms comes from the TTL of the status.
CREATE TABLE probe_cache (
    domain          TEXT PRIMARY KEY NOT NULL,
    status          TEXT NOT NULL,
    mx              TEXT NOT NULL DEFAULT '',
    address         TEXT NOT NULL DEFAULT '',
    tls_version     TEXT NOT NULL DEFAULT '',
    cipher          TEXT NOT NULL DEFAULT '',
    cert_not_after  INTEGER,             -- Unix seconds, NULL when unknown
    error           TEXT NOT NULL DEFAULT '',
    elapsed_ms      INTEGER NOT NULL DEFAULT 0,
    probed_ms       INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL
) WITHOUT ROWID;

-- Domains seen with an expired certificate: routed plain at once when the
-- rule's expired toggle is on. Cleared by the CLI or the manager; no restart.
CREATE TABLE expired_cache (
    domain          TEXT PRIMARY KEY NOT NULL,
    mx              TEXT NOT NULL DEFAULT '',
    cert_not_after  INTEGER,
    first_seen_ms   INTEGER NOT NULL,
    last_seen_ms    INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL
) WITHOUT ROWID;

-- One row per recipient decision; one transaction per message.
CREATE TABLE journal (
    id           INTEGER PRIMARY KEY,
    at_ms        INTEGER NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    sender       TEXT NOT NULL DEFAULT '',
    recipient    TEXT NOT NULL,
    domain       TEXT NOT NULL,
    route        TEXT NOT NULL CHECK (route IN ('tls', 'plain')),
    reason       TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT '',
    mx           TEXT NOT NULL DEFAULT '',
    tls_version  TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    elapsed_ms   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX journal_at ON journal (at_ms);

-- Diagnostic log by level (0 error .. 4 full-debug).
CREATE TABLE log (
    id       INTEGER PRIMARY KEY,
    at_ms    INTEGER NOT NULL,
    level    INTEGER NOT NULL CHECK (level BETWEEN 0 AND 4),
    source   TEXT NOT NULL DEFAULT '',
    message  TEXT NOT NULL
);
CREATE INDEX log_at ON log (at_ms);

-- @version 3
-- No silent downgrade (issue 8): MTA-STS policies (RFC 8461) fetched over
-- HTTPS are cached here, so a restart does not refetch them and a policy
-- stays in force until max_age runs out even when the TXT record or the
-- policy host is unreachable. One guard setting per check; both default on.
CREATE TABLE sts_policy (
    domain       TEXT PRIMARY KEY NOT NULL,
    id           TEXT NOT NULL,          -- the TXT record's id it was fetched for
    mode         TEXT NOT NULL CHECK (mode IN ('enforce', 'testing', 'none')),
    mx_patterns  TEXT NOT NULL DEFAULT '', -- one pattern per line
    max_age      INTEGER NOT NULL,       -- seconds
    fetched_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO settings (key, value) VALUES
    ('guard_mta_sts', '1'),               -- MTA-STS enforce: never plain
    ('guard_dane',    '1');               -- DNSSEC-validated TLSA: never plain

-- @version 4
-- Deadlines of the no-downgrade issue: each domain's guard look-ups run
-- under their own deadline, inside one deadline for the whole message, so
-- OnArrival returns in time whatever the number of domains.
INSERT INTO settings (key, value) VALUES
    ('guard_timeout_ms',   '5000'),       -- MTA-STS and DANE look-ups of one domain
    ('message_timeout_ms', '20000');      -- everything decided for one message

-- @version 5
-- The expired-certificate cache heals (issue 11). One sighting of an
-- expired certificate is kept for ttl_failure_s only; a second probe at
-- least 10 minutes after the first confirms it (confirmed_ms) and only then
-- does ttl_expired_s apply. Every entry is probed again in the background
-- when next_check_ms comes, and leaves as soon as the domain no longer
-- shows an expired certificate.
ALTER TABLE expired_cache ADD COLUMN confirmed_ms INTEGER;   -- NULL: not confirmed
ALTER TABLE expired_cache ADD COLUMN next_check_ms INTEGER NOT NULL DEFAULT 0;
-- Entries written before were single sightings kept for a week: they get
-- the short lifetime, counted from their last sighting.
UPDATE expired_cache SET expires_ms = MIN(expires_ms, last_seen_ms + 1000 *
    COALESCE((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'ttl_failure_s'), 900));

-- @version 6
-- No message waits for a probe (issue 14). Domains in use are probed again
-- in the background before their probe cache entry runs out: those used
-- within refresh_window_days, at most refresh_concurrency probes at once
-- and refresh_max_per_minute a minute (expired-certificate re-checks
-- included).
INSERT INTO settings (key, value) VALUES
    ('refresh_window_days',    '7'),     -- days a domain stays refreshed after its last use
    ('refresh_concurrency',    '4'),     -- background probes at once
    ('refresh_max_per_minute', '600');   -- background probes started a minute

-- When each domain was last used, so a restart keeps refreshing them. Only
-- moves of an hour or more are written; rows older than the window go.
CREATE TABLE domain_use (
    domain        TEXT PRIMARY KEY NOT NULL,
    last_used_ms  INTEGER NOT NULL,
    source        INTEGER NOT NULL DEFAULT 0  -- the IIS virtual server it was used from; 0 unknown
) WITHOUT ROWID;

-- The engine's live figures (tlsrouter stats): each process adds what it
-- counted since its last write to its own rows every few seconds; reading
-- sums every process. Rows not written for a day fold into process ''.
-- Names: messages, recipients, cache_hits, probe_joins, policy_joins,
-- mx_shares, refreshes, handoffs, handoff_failures, reason.<reason>,
-- probe.<status>, onarrival_le_us.<bound>|inf (OnArrival times by bucket),
-- onarrival_max_us (the longest: the largest is kept, not a sum).
CREATE TABLE stats (
    process     TEXT NOT NULL,   -- "<pid>-<start ms>-<n>"; '': folded
    name        TEXT NOT NULL,
    value       INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (process, name)
) WITHOUT ROWID;

-- @version 7
-- What-if keeps to the rule's own virtual server (issue 15): each journal
-- row records the IIS virtual server its message came from. Rows written
-- before have none: NULL, told apart from every server's rows.
-- No index: the replay reads its window through journal_at and takes its
-- server's rows from those; an index on the server would add a b-tree
-- insert to every row the sink writes on IIS's thread and save little,
-- since each row of the window is read for its domain and reason anyway.
ALTER TABLE journal ADD COLUMN source_instance INTEGER;   -- NULL: not recorded
