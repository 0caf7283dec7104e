# credscan scanner: the security engineer's (or CI job's) token that scans
# and pushes discovered credentials. It writes legacy credentials and the
# redacted findings, reads approvals, and appends to the audit mirror. It
# cannot write an approval: approvals come from someone else.

# discovered credentials (KV v2 mount "secret"; adjust to vault.mount)
path "secret/data/arp/legacy/*"        { capabilities = ["create", "read", "update"] }
path "secret/metadata/arp/legacy/*"    { capabilities = ["read", "update", "patch"] }
path "secret/data/+/+/+"               { capabilities = ["create", "read", "update"] }
path "secret/metadata/+/+/+"           { capabilities = ["read", "update", "patch"] }
path "secret/data/unclassified/*"      { capabilities = ["create", "read", "update"] }
path "secret/metadata/unclassified/*"  { capabilities = ["read", "update", "patch"] }

# redacted occurrences for the TUI
path "secret/data/credscan/findings/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/credscan/findings/*" { capabilities = ["read", "update", "patch"] }

# the migration tracker: each scanned app's evidence (credscan/apps/<app>,
# when the manifest's tracker is in Vault; max_versions set on creation)
path "secret/data/credscan/apps/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/credscan/apps/*" { capabilities = ["read", "list", "patch"] }

# approvals: read only
path "secret/data/credscan/approvals/*" { capabilities = ["read"] }

# audit mirror: append only (create, never update)
path "secret/data/credscan/audit/*"     { capabilities = ["create", "read"] }
path "secret/metadata/credscan/audit/*" { capabilities = ["read", "list", "patch"] }

# audit device check: listing devices needs sudo
path "sys/audit" { capabilities = ["read", "sudo"] }

# never: the green passwords and what applications read
path "secret/data/arp/green/*"   { capabilities = ["deny"] }
path "secret/data/arp/current/*" { capabilities = ["deny"] }
