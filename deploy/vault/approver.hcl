# credscan approver: a security lead who grants scan approvals. Approvals
# are written once (create only: an approval is never edited). An approver
# reads no credential.

path "secret/data/credscan/approvals/*"     { capabilities = ["create", "read"] }
path "secret/metadata/credscan/approvals/*" { capabilities = ["read", "list"] }

# the audit mirror, so approvals are logged like every action
path "secret/data/credscan/audit/*"     { capabilities = ["create", "read"] }
path "secret/metadata/credscan/audit/*" { capabilities = ["read", "list", "patch"] }

path "secret/data/arp/*"      { capabilities = ["deny"] }
path "secret/metadata/arp/*"  { capabilities = ["deny"] }
