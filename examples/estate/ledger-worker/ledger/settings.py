import os

DEBUG = False

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "arp",
        "USER": "arp_app",
        "PASSWORD": "Arp-Billing-2019!",
        "HOST": "10.20.30.40",
        "PORT": "5432",
    },
    "reporting": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "gps",
        "USER": "gps_ro",
        "PASSWORD": os.environ["GPS_DB_PASSWORD"],
        "HOST": "gps-db.prod.internal",
    },
}
