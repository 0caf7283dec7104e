region      = "eu-west-1"
db_host     = "arp-green.cluster-abc.eu-west-1.rds.amazonaws.com"
db_username = "arp_app"
db_password = "Gr33n-N0t-Yet"
