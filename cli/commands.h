/* The command table: one line per command, CLI_COMMAND(name, usage).
 * cli.h turns it into prototypes (int cmd_<name>(cli_ctx *, int, char **),
 * each in cli/cmd_<name>.c) and main.c into the dispatch table, so a new
 * command is one new file and one line here. */
CLI_COMMAND(rule, "rule add NAME --pickup DIR [--source N]\n"
                  "  rule set NAME [--expired-cert on|off] [--enabled on|off] [--pickup DIR]\n"
                  "  rule list [--json]\n"
                  "    (--pickup DIR may not be the source server's own Pickup folder: refused on\n"
                  "    Windows when IIS says where that is; the native build cannot know it)")
CLI_COMMAND(domains, "domains add|remove NAME force-plain|never-redirect PATTERN... [--force]")
CLI_COMMAND(loglevel, "loglevel [error|warning|info|debug|full-debug]")
CLI_COMMAND(log, "log [--level error|warning|info|debug|full-debug] [--limit N] [--json]\n"
                 "    (the diagnostic log, newest first: that level and every more severe one)")
CLI_COMMAND(probe, "probe DOMAIN [--json] [--port N] [--stack openssl|schannel]")
CLI_COMMAND(route, "route --from ADDR --to ADDR [--to ADDR...] [--source N] FILE|- [--json]")
CLI_COMMAND(journal, "journal [--limit N] [--message-id ID] [--sender ADDR] [--json|--csv]\n"
                     "    (--message-id, --sender: every recipient's decision for that message or\n"
                     "    sender, unless --limit N; the sender ignoring case, '<>' the null sender)")
CLI_COMMAND(explain, "explain REASON [--json] | explain --list [--json]\n"
                     "    (a journal reason in plain words: what happened and what to do)")
CLI_COMMAND(cache, "cache list [--json] | cache clear [--expired|--all]\n"
                   "    (clear: the probe cache; --expired: the expired-certificate cache; --all: both)")
CLI_COMMAND(config, "config [KEY [VALUE]] | config --help [KEY]\n"
                    "    (--help: what each setting does, its values and its default)")
CLI_COMMAND(check, "check [--json]\n"
                   "    (the setup checks: ok, warn, fail or skip, each with what to do; exit 1 when\n"
                   "    one fails)")
CLI_COMMAND(stats, "stats [--json]\n"
                   "    (live figures summed over every process: messages, recipients, probes,\n"
                   "    probe_joins, refreshes, cache_hits, handoffs, onarrival_ms p50/p95/p99/max)")
CLI_COMMAND(whatif, "whatif RULE [--force-plain P]... [--never-redirect P]... [--expired-cert on|off]\n"
                    "         [--since DAYS] [--json]\n"
                    "    (what the edit would have changed over the last DAYS days, 7 unless given,\n"
                    "    from the journal's recorded decisions; nothing is saved. A list given replaces\n"
                    "    the rule's list; one not given keeps it)")
