# credscan rotator: the migration lead's or DBA's token that runs
# `credscan rotate` for the migrated target (ARP). It reads the discovered
# legacy passwords and the administrators' DSNs, writes the Vault-only green
# password, the pointer applications read and the rotation's state, and
# records evidence in the tracker. Approvals come from someone else.

# the discovered legacy passwords: read; verify records live/dead in metadata
path "secret/data/arp/legacy/*"     { capabilities = ["read"] }
path "secret/metadata/arp/legacy/*" { capabilities = ["read", "list", "patch"] }

# the green passwords (exist only here) and the pointer
path "secret/data/arp/green/*"       { capabilities = ["create", "read", "update"] }
path "secret/metadata/arp/green/*"   { capabilities = ["read", "patch"] }
path "secret/data/arp/current/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/arp/current/*" { capabilities = ["read"] }

# the rotation's state (check-and-set: one rotation per role at a time)
path "secret/data/credscan/rotation/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/credscan/rotation/*" { capabilities = ["read", "list"] }
path "secret/metadata/credscan/rotation"   { capabilities = ["list"] }

# the administrators' DSNs of blue, green and PgBouncer's console
path "secret/data/credscan/admin/*" { capabilities = ["read"] }

# approvals: read only
path "secret/data/credscan/approvals/*" { capabilities = ["read"] }

# the tracker's evidence (on green, rolled back, revoked)
path "secret/data/credscan/apps/*"     { capabilities = ["create", "read", "update"] }
path "secret/metadata/credscan/apps/*" { capabilities = ["read", "list", "patch"] }

# the audit mirror: append only
path "secret/data/credscan/audit/*"     { capabilities = ["create", "read"] }
path "secret/metadata/credscan/audit/*" { capabilities = ["read", "list", "patch"] }

# a rotation refuses to start without an audit device: listing them needs sudo
path "sys/audit" { capabilities = ["read", "sudo"] }
