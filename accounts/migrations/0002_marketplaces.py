import datetime as dt

from django.db import migrations

US_CA_LAUNCH = dt.date(2022, 11, 16)
WORLDWIDE_LAUNCH = dt.date(2024, 4, 24)

# code, name, IANA time zone, default language, currency
MARKETPLACES = [
    ("US", "United States", "America/Los_Angeles", "en", "USD"),
    ("CA", "Canada", "America/Toronto", "en", "CAD"),
    ("MX", "Mexico", "America/Mexico_City", "es", "MXN"),
    ("BR", "Brazil", "America/Sao_Paulo", "pt", "BRL"),
    ("UK", "United Kingdom", "Europe/London", "en", "GBP"),
    ("DE", "Germany", "Europe/Berlin", "de", "EUR"),
    ("FR", "France", "Europe/Paris", "fr", "EUR"),
    ("IT", "Italy", "Europe/Rome", "it", "EUR"),
    ("ES", "Spain", "Europe/Madrid", "es", "EUR"),
    ("NL", "Netherlands", "Europe/Amsterdam", "nl", "EUR"),
    ("SE", "Sweden", "Europe/Stockholm", "sv", "SEK"),
    ("PL", "Poland", "Europe/Warsaw", "pl", "PLN"),
    ("BE", "Belgium", "Europe/Brussels", "fr", "EUR"),
    ("TR", "Türkiye", "Europe/Istanbul", "tr", "TRY"),
    ("AE", "United Arab Emirates", "Asia/Dubai", "en", "AED"),
    ("SA", "Saudi Arabia", "Asia/Riyadh", "ar", "SAR"),
    ("EG", "Egypt", "Africa/Cairo", "ar", "EGP"),
    ("IN", "India", "Asia/Kolkata", "en", "INR"),
    ("JP", "Japan", "Asia/Tokyo", "ja", "JPY"),
    ("AU", "Australia", "Australia/Sydney", "en", "AUD"),
    ("SG", "Singapore", "Asia/Singapore", "en", "SGD"),
]


def create_marketplaces(apps, schema_editor):
    Marketplace = apps.get_model("accounts", "Marketplace")
    for code, name, zone, language, currency in MARKETPLACES:
        Marketplace.objects.update_or_create(
            code=code,
            defaults={
                "name": name,
                "time_zone": zone,
                "language": language,
                "currency": currency,
                "aha_available_from": US_CA_LAUNCH if code in {"US", "CA"} else WORLDWIDE_LAUNCH,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(create_marketplaces, migrations.RunPython.noop)]
