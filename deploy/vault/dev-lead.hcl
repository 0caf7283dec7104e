# credscan dev lead: sees their apps' redacted findings and ticks their
# migration checklist. Never reads a password.

path "secret/data/credscan/findings/*"     { capabilities = ["read"] }
path "secret/metadata/credscan/findings/*" { capabilities = ["read", "list"] }
path "secret/data/credscan/apps/*"         { capabilities = ["create", "read", "update"] }
path "secret/metadata/credscan/apps/*"     { capabilities = ["read", "list"] }

path "secret/data/arp/legacy/*"     { capabilities = ["deny"] }
path "secret/metadata/arp/legacy/*" { capabilities = ["deny"] }
path "secret/data/arp/green/*"      { capabilities = ["deny"] }
path "secret/data/credscan/approvals/*" { capabilities = ["deny"] }
