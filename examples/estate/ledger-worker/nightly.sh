#!/bin/sh
# nightly reconciliation against ARP
export PGHOST=arp-db.prod.internal
export PGUSER=arp_backup
export PGPASSWORD='b4ckup$Night'
psql -d arp -c 'select reconcile()'
