"""The one settings module. Every deploy-specific value comes from the environment (see README)."""

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from aha_site.env import env_bool, env_float, env_int, env_list, env_networks, env_str, env_url
from aha_site.observability.logs import logging_config
from aha_site.observability.sentry import init_sentry

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # django.contrib.admin whose site admits only staff verified by a second factor (TOTP).
    "accounts.otp.StaffAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "ninja",
    "accounts",
    "health",
    "api",
]

MIDDLEWARE = [
    # First, so that every log line has the request id, and every request is counted and timed.
    "aha_site.observability.middleware.RequestIdMiddleware",
    "aha_site.observability.middleware.RequestMetricsMiddleware",
    # Next: everything after it (throttling, logs) sees the real client address.
    "aha_site.client_address.ClientAddressMiddleware",
    # Before anything reads a body (CSRF does): oversized and unwanted multipart bodies are
    # refused from their headers, then text no database can store.
    # The API answers its own refusals in JSON, as its schema documents them.
    "api.middleware.api_body_limit",
    "aha_site.request_guard.BoundedBodyMiddleware",
    "aha_site.request_guard.RejectNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "health.middleware.UserLanguageMiddleware",
    "health.middleware.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

# Request bodies: every form here is a few kilobytes of text; the admin's longest (a bulk action
# on a page of ids) is far below 1 MB. No view takes files today (see request_guard.accepts_files).
MAX_REQUEST_BODY = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY
FILE_UPLOAD_MAX_BODY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

ROOT_URLCONF = "aha_site.urls"
WSGI_APPLICATION = "aha_site.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: SQLite with nothing set, PostgreSQL (optionally pooled) with DATABASE_URL.
DATABASE_URL = env_url("DATABASE_URL", schemes=("postgres", "postgresql", "sqlite"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": BASE_DIR / "db.sqlite3",
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    if env_bool("DB_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env_int("DB_POOL_MIN", 2, minimum=1),
            "max_size": env_int("DB_POOL_MAX", 10, minimum=1),
            "timeout": 10,
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60)
if test_name := env_str("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": test_name}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Celery: Redis with REDIS_URL; without it every task runs in-process, at once.
REDIS_URL = env_url("REDIS_URL", schemes=("redis", "rediss"))
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task still running when the broker connection drops is redelivered (late acks); cancel the
# first copy rather than let both run.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_TASK_IGNORE_RESULT = True
# Longer than any task may run, so Redis never redelivers a task that is still running.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_TIME_LIMIT = 1800
CELERY_TASK_SOFT_TIME_LIMIT = 1500
CELERY_TIMEZONE = "UTC"

# Cache: rendered dashboard pages (keyed by a fingerprint of their rows), trend charts and
# sessions. In-process memory with nothing set; Redis, shared by every web process, with CACHE_URL
# or else REDIS_URL (its keys prefixed, apart from Celery's). Short socket timeouts: a cache outage
# costs a re-render and a session query, not a hung page.
CACHE_URL = env_url("CACHE_URL", schemes=("redis", "rediss")) or REDIS_URL
if CACHE_URL:
    CACHES = {
        "default": {
            "BACKEND": "aha_site.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "aha-cache"),
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The upstream API: requests per client per window, counted in the cache above (shared Redis, so
# the limit holds across web processes), and the largest body it reads (a 10,000-row batch of
# daily orders is about 700 KB).
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 600, minimum=1)
API_RATE_LIMIT_WINDOW_SECONDS = env_int("API_RATE_LIMIT_WINDOW_SECONDS", 60, minimum=1)
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 2_000_000, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = max(2_621_440, API_MAX_BODY_BYTES)

# Sessions: read from the cache when every web process shares it (Redis), written through to the
# database, which stays the record (accounts/sessions.py); with only in-process memory, from the
# database, so a sign-out in one process counts in every other at once.
SESSION_ENGINE = "accounts.sessions" if CACHE_URL else "accounts.sessions_db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "accounts.throttle.ThrottleBackend",
    # Django's, reading each request's user with one statement (accounts/backends.py).
    "accounts.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
# The address of the site as seen from outside, for links in emails (set-password links).
SITE_URL = env_url("SITE_URL", schemes=("http", "https")) or "http://127.0.0.1:8000"
# A set-password link works once and for this long (an invitation too).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_HOURS", 72, minimum=1) * 3600
LOGIN_REDIRECT_URL = "accounts:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Login throttling: lock an account+address pair after 5 failures, for an hour.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("LOGIN_COOLOFF_MINUTES", 60, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# REMOTE_ADDR is the real client address: ClientAddressMiddleware reads it from behind the
# trusted proxies, TRUSTED_PROXY_COUNT of them in front, or those at TRUSTED_PROXIES.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
if TRUSTED_PROXY_COUNT and TRUSTED_PROXIES:
    raise ImproperlyConfigured("Set TRUSTED_PROXY_COUNT or TRUSTED_PROXIES, not both.")
# Beyond axes' username+address lockout (accounts/throttle.py): a limit per address across
# usernames, and a per-username delay that doubles after each failure past a threshold.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# A refused attempt is not a failure: it neither extends a pause nor counts toward another one.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1)
LOGIN_USERNAME_SLOW_AFTER = env_int("LOGIN_USERNAME_SLOW_AFTER", 10, minimum=1)
LOGIN_USERNAME_MAX_DELAY_SECONDS = env_int("LOGIN_USERNAME_MAX_DELAY_SECONDS", 900, minimum=1)
# Decision: failed sign-ins are logged with the username and address (never the password), so an
# attack can be traced; axes masks both by default.
AXES_SENSITIVE_PARAMETERS: list[str] = []

# Staff second factor: the name authenticator apps show for the account.
OTP_TOTP_ISSUER = "Account Health Assurance"

# The back office's queues refresh themselves this often (htmx polling); not a deploy choice,
# so no environment variable: a browser test shortens it to see a refresh without waiting.
QUEUE_REFRESH_SECONDS = 15

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("pl", _("Polish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Email: sent only by the outbox worker, never inside a request.
EMAIL_BACKEND_PATH = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
SMTP_OPTIONS = {
    "host": env_str("EMAIL_HOST", "localhost"),
    "port": env_int("EMAIL_PORT", 25, minimum=1),
    "username": env_str("EMAIL_HOST_USER"),
    "password": env_str("EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("EMAIL_USE_TLS", default=False),
    "timeout": 10,
}
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        "OPTIONS": SMTP_OPTIONS if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Account Health <account-health@example.com>")
OPERATORS_EMAIL = env_list("OPERATORS_EMAIL", ["operators@example.com"])
# The site's address as sellers reach it: every email links to its dashboard page under it.
SITE_URL = (env_url("SITE_URL", schemes=("http", "https")) or "http://127.0.0.1:8000").rstrip("/")

# Security: strict by default; HTTPS-only settings switch on when DEBUG is off.
SECURE = not DEBUG and env_bool("SECURE_HTTPS", default=True)
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
if SECURE:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = SECURE
SECURE_HSTS_SECONDS = 31_536_000 if SECURE else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE
SECURE_HSTS_PRELOAD = SECURE
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if SECURE else None
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}

# Logs: JSON lines in production, readable lines in development (LOG_FORMAT=json|text), each with
# the request, user and task ids; emails, phone numbers and tokens redacted from every record.
LOG_FORMAT = env_str("LOG_FORMAT", "text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} must be json or text.")
LOGGING = logging_config(json_lines=LOG_FORMAT == "json", level=env_str("LOG_LEVEL", "INFO"))
# Celery workers log through LOGGING too, in the same format, instead of their own.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

# The nightly job: how many store accounts one day-close task handles. Each task also pays a
# fixed cost (its bookkeeping, a dozen statements); at 5000 that was a tenth of a night.
DAY_CLOSE_CHUNK_SIZE = env_int("DAY_CLOSE_CHUNK_SIZE", 10_000, minimum=1)

# Prometheus: /metrics answers a scraper that shows METRICS_TOKEN as a bearer token or comes from
# an address or network in METRICS_ALLOWED_IPS; with neither set it does not exist.
METRICS_TOKEN = env_str("METRICS_TOKEN")
METRICS_ALLOWED_IPS = env_networks("METRICS_ALLOWED_IPS")

# Sentry: error reports from the web and worker processes when SENTRY_DSN is set (no personal data).
SENTRY_ENABLED = init_sentry(
    dsn=env_str("SENTRY_DSN"),
    environment=env_str("SENTRY_ENVIRONMENT"),
    release=env_str("SENTRY_RELEASE"),
    traces_sample_rate=env_float("SENTRY_TRACES_SAMPLE_RATE", 0.0, minimum=0.0, maximum=1.0),
)
