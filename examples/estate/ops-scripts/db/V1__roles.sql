CREATE ROLE arp_app WITH LOGIN PASSWORD 'Arp-Old-2017';
CREATE ROLE arp_readonly WITH LOGIN; -- password set by Vault
