"""Django settings for Leadflow, read from the environment (see README, Configuration)."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF

from leadflow.config import ConfigError, Env

env = Env()
BASE_DIR = Path(__file__).resolve().parent
TESTING = "pytest" in sys.modules or env.bool("LEADFLOW_TESTING")

DATA_DIR = env.path("LEADFLOW_DATA_DIR", Path.cwd() / "var")
DEBUG = env.bool("LEADFLOW_DEBUG", default=False)

SECRET_KEY = env.str("LEADFLOW_SECRET_KEY")
# `make run` keeps its key in the data folder: every `leadflow` command run beside it (the
# README's import, token, manage...) then signs with the same key, with nothing to export.
# Production sets LEADFLOW_SECRET_KEY and has no such file, so it still refuses to start.
_SECRET_KEY_FILE = DATA_DIR / "secret-key"
if not SECRET_KEY and _SECRET_KEY_FILE.is_file():
    try:
        SECRET_KEY = _SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the secret key in {_SECRET_KEY_FILE}: "
                          f"{exc.strerror}") from None
if not SECRET_KEY:
    if not (DEBUG or TESTING or env.bool("LEADFLOW_DEMO")):
        raise ConfigError(
            "LEADFLOW_SECRET_KEY is not set. Set it to a long random string "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), or write one "
            f"in {_SECRET_KEY_FILE}."
        )
    SECRET_KEY = "insecure-demo-key-only-for-make-run-and-tests"  # noqa: S105

ALLOWED_HOSTS = env.list("LEADFLOW_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
if TESTING:
    ALLOWED_HOSTS = ["*"]
CSRF_TRUSTED_ORIGINS = env.list("LEADFLOW_CSRF_TRUSTED_ORIGINS", [])
# The public address leads see in emails (unsubscribe and tracking links), form links and
# embed snippets. Unset, it follows the port Leadflow serves on, so that
# `LEADFLOW_PORT=8111 make run` gives links that work.
PORT = env.int("LEADFLOW_PORT", 8000, minimum=1, maximum=65535)
BASE_URL = env.url("LEADFLOW_BASE_URL", f"http://127.0.0.1:{PORT}", ("http", "https")).rstrip("/")
# The region of phone numbers typed without a country prefix when neither the lead, the
# form nor the import row names a country (ISO 3166 alpha-2, e.g. FR); empty: none.
DEFAULT_COUNTRY = env.str("LEADFLOW_DEFAULT_COUNTRY", "").strip().upper()
if DEFAULT_COUNTRY:
    import phonenumbers

    if DEFAULT_COUNTRY not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError("LEADFLOW_DEFAULT_COUNTRY must be an ISO 3166 two-letter country "
                          f"code such as FR or US, not {DEFAULT_COUNTRY!r}")

# Behind a reverse proxy that sets X-Forwarded-Proto (see README, Production).
if env.bool("LEADFLOW_BEHIND_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Proxies whose X-Forwarded-For is believed (leadflow.core.http.client_ip): rate limits,
# login throttling and stored consent addresses key on the visitor, not on the proxy.
LEADFLOW_TRUSTED_PROXIES = env.networks("LEADFLOW_TRUSTED_PROXIES")
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("LEADFLOW_SECURE_COOKIES")
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every answer (django-csp): scripts only from Leadflow's own
# static files (or with the per-request nonce, {{ request.csp_nonce }}), never inline; no
# framing of Leadflow's pages except the hosted forms, which customers' sites frame
# (capture.views.hosted_form). Style attributes stay allowed: the bar charts set their
# width on the element; <style> elements and inline event handlers do not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.str("LEADFLOW_CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env.url(
        "LEADFLOW_CSP_REPORT_URI", "", ("http", "https"))]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    # The API docs page from ninja's own static files (no CDN, no inline script: CSP).
    "ninja",
    "django_tasks_db",
    "axes",
    "csp",
    "leadflow.core",
    "leadflow.accounts",
    "leadflow.leads",
    "leadflow.tracking",
    "leadflow.scoring",
    "leadflow.lifecycle",
    "leadflow.routing",
    "leadflow.emails",
    "leadflow.lists",
    "leadflow.segments",
    "leadflow.notifications",
    "leadflow.sales",
    "leadflow.campaigns",
    "leadflow.capture",
    "leadflow.imports",
    "leadflow.analytics",
    "leadflow.audit",
    "leadflow.webhooks",
    # Composes the apps (wires the pipeline and the periodic jobs): last, above them all.
    "leadflow.server",
]

MIDDLEWARE = [
    # First: its duration covers the whole answer (leadflow/server/requestlog.py).
    "leadflow.server.requestlog.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "leadflow.accounts.middleware.UserTimeZoneMiddleware",
    "leadflow.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "leadflow.core.middleware.ExpectedErrorMiddleware",
    # Last, as django-axes requires: it turns a locked-out login into its answer.
    "axes.middleware.AxesMiddleware",
]

# Login throttling (django-axes): after LEADFLOW_LOGIN_FAILURE_LIMIT failed sign-ins for
# one username, or from one client address (leadflow.core.http.client_ip), further tries
# are refused for LEADFLOW_LOGIN_COOLOFF_MINUTES; a success resets the count.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend",
                           "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = env.int("LEADFLOW_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=1000)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LEADFLOW_LOGIN_COOLOFF_MINUTES", 15,
                                              minimum=1, maximum=7 * 24 * 60))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_CLIENT_IP_CALLABLE = "leadflow.core.http.client_ip"
AXES_LOCKOUT_CALLABLE = "leadflow.server.views.locked_out"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

ROOT_URLCONF = "leadflow.urls"
WSGI_APPLICATION = "leadflow.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite in the data folder unless DATABASE_URL names another database.
_default_db = f"sqlite:///{DATA_DIR / 'leadflow.sqlite3'}"
_db_url = env.str("DATABASE_URL", _default_db)
if not _db_url.startswith(("sqlite://", "postgres://", "postgresql://")):
    raise ConfigError(f"DATABASE_URL must be sqlite:// or postgres://, not {_db_url!r}")
DATABASES = {"default": dj_database_url.parse(_db_url, conn_max_age=60)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the in-process worker write while the web threads read.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if TESTING and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Background work: "db" (default, no extra service), "rq" (Redis, for N workers),
# "immediate" (run inline; tests and one-off scripts).
TASK_BACKEND = env.choice("LEADFLOW_TASK_BACKEND", "immediate" if TESTING else "db",
                          ("db", "rq", "immediate"))
REDIS_URL = env.url("REDIS_URL", "redis://127.0.0.1:6379/0", ("redis", "rediss", "unix"))
_task_backends = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django.tasks.backends.immediate.ImmediateBackend",
}
TASKS = {"default": {"BACKEND": _task_backends[TASK_BACKEND], "QUEUES": ["default"]}}
RQ_QUEUES = {"default": {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 600}}
if TASK_BACKEND == "rq":
    INSTALLED_APPS.append("django_rq")
# Webhook subscriptions to plain http:// URLs (https only otherwise; docs/webhooks.md).
WEBHOOKS_ALLOW_HTTP = env.bool("LEADFLOW_WEBHOOKS_ALLOW_HTTP", default=False)
# Seconds between two looks of a worker for due time-based work (waits, decay, SLA).
WORKER_TICK_SECONDS = env.int("LEADFLOW_WORKER_TICK", 5, minimum=1, maximum=3600)
# Test-only hook, never set in production: worker processes started by a test read the
# time from the file the test's clock writes (leadflow.core.clock, docs/background-work.md).
CLOCK_FILE: Path | None = None
if _clock_file := env.str("LEADFLOW_CLOCK_FILE"):
    CLOCK_FILE = Path(_clock_file)
    if not CLOCK_FILE.is_absolute() or not CLOCK_FILE.parent.is_dir():
        raise ConfigError("LEADFLOW_CLOCK_FILE must be an absolute path in an existing "
                          f"folder, not {_clock_file!r}")
    if CLOCK_FILE.exists():
        from leadflow.core.clock import read_file

        try:
            read_file(CLOCK_FILE)
        except ValueError as exc:
            raise ConfigError(f"LEADFLOW_CLOCK_FILE: {exc}") from None

# Email: SMTP by default; any django-anymail backend through LEADFLOW_EMAIL_BACKEND
# (its own settings then come from ANYMAIL_* variables, see README).
EMAIL_BACKEND_PATH = env.str("LEADFLOW_EMAIL_BACKEND",
                             "django.core.mail.backends.smtp.EmailBackend")
_smtp_options = {
    "host": env.str("LEADFLOW_SMTP_HOST", "127.0.0.1"),
    "port": env.int("LEADFLOW_SMTP_PORT", 1025, minimum=1, maximum=65535),
    "username": env.str("LEADFLOW_SMTP_USER"),
    "password": env.str("LEADFLOW_SMTP_PASSWORD"),
    "use_tls": env.bool("LEADFLOW_SMTP_STARTTLS"),
    "use_ssl": env.bool("LEADFLOW_SMTP_SSL"),
    "timeout": 20,
}
_mailer_options: dict[str, object] = {}
if EMAIL_BACKEND_PATH.endswith("smtp.EmailBackend"):
    _mailer_options = _smtp_options
elif EMAIL_BACKEND_PATH.endswith("filebased.EmailBackend"):
    # Writes each email to a file instead of sending it (make run, trials).
    _mailer_options = {"file_path": str(env.path("LEADFLOW_EMAIL_FILE_PATH",
                                                 DATA_DIR / "sent-emails"))}
MAILERS = {"default": {"BACKEND": EMAIL_BACKEND_PATH, "OPTIONS": _mailer_options}}
DEFAULT_FROM_EMAIL = env.str("LEADFLOW_FROM_EMAIL", "Leadflow <marketing@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The domain of every message's own Return-Path (emails.verp), whose MX points at
# `leadflow bounces`; empty: the sending domain.
LEADFLOW_BOUNCE_DOMAIN = env.str("LEADFLOW_BOUNCE_DOMAIN")
# Where `leadflow bounces` (the inbound SMTP listener for DSNs and ARF reports) listens.
LEADFLOW_BOUNCE_LISTEN = env.host_port("LEADFLOW_BOUNCE_LISTEN", "127.0.0.1:2525")
# After this many soft bounces of an address with no delivery in between, it is suppressed.
LEADFLOW_SOFT_BOUNCE_LIMIT = env.int("LEADFLOW_SOFT_BOUNCE_LIMIT", 3, minimum=1, maximum=100)
# django-anymail's own settings from ANYMAIL_* variables (ANYMAIL_POSTMARK_SERVER_TOKEN is
# ANYMAIL["POSTMARK_SERVER_TOKEN"]). WEBHOOK_SECRET ("user:password") guards the provider
# webhooks at /anymail/: without it their bounce and complaint events are ignored.
ANYMAIL = {name.removeprefix("ANYMAIL_"): env.str(name) for name in env.environ
           if name.startswith("ANYMAIL_")}
if ANYMAIL.get("WEBHOOK_SECRET") and ":" not in ANYMAIL["WEBHOOK_SECRET"]:
    raise ConfigError("ANYMAIL_WEBHOOK_SECRET must be user:password (the basic auth the "
                      "provider's webhook URL carries)")
# The legal basis of marketing email: "consent" (GDPR/ePrivacy default: only leads who
# consented get it) or "legitimate_interest" (B2B soft opt-in where the law allows it:
# everyone who has not objected). Checked at send time.
# Sending: SMTP connections per worker, rows claimed per batch, the lease of a batch, and
# rate limits per recipient domain and per sending domain (shared by all workers).
SMTP_CONNECTIONS = env.int("LEADFLOW_SMTP_CONNECTIONS", 4, minimum=1, maximum=64)
EMAIL_BATCH = env.int("LEADFLOW_EMAIL_BATCH", 200, minimum=1, maximum=5000)
EMAIL_LEASE_SECONDS = env.int("LEADFLOW_EMAIL_LEASE_SECONDS", 120, minimum=2, maximum=3600)
RECIPIENT_RATE_LIMITS = env.rates("LEADFLOW_RECIPIENT_RATE_LIMITS")
SENDING_RATE_LIMITS = env.rates("LEADFLOW_SENDING_RATE_LIMITS")
MARKETING_BASIS = env.choice("LEADFLOW_MARKETING_BASIS", "consent",
                             ("consent", "legitimate_interest"))
# Email opens and clicks by machines (leadflow/emails/engagement.py): addresses of proxies
# and link scanners besides those Leadflow ships (emails/data/machine_ranges.json); a click
# this many seconds after sending, or this close to a click on another link of the same
# email, is a scanner's (0 turns the rule off).
LEADFLOW_MACHINE_NETWORKS = env.networks("LEADFLOW_MACHINE_NETWORKS")
LEADFLOW_MACHINE_CLICK_SECONDS = env.int("LEADFLOW_MACHINE_CLICK_SECONDS", 5, minimum=0,
                                         maximum=3600)
LEADFLOW_MACHINE_BURST_SECONDS = env.int("LEADFLOW_MACHINE_BURST_SECONDS", 3, minimum=0,
                                         maximum=600)


# DKIM (emails.dkim): one PEM RSA private key per sending domain, as
# <LEADFLOW_DKIM_KEYS_DIR>/<domain>.pem, all published under one selector; read and checked
# at start (an unreadable key stops Leadflow). No directory: no signing.
LEADFLOW_DKIM_KEYS = env.pem_keys("LEADFLOW_DKIM_KEYS_DIR")
LEADFLOW_DKIM_SELECTOR = env.dns_name("LEADFLOW_DKIM_SELECTOR", "leadflow")
# The DNS check page (emails.dns_check): the SPF record suggested includes this domain
# (your provider's or relay's SPF, e.g. _spf.provider.example) or these addresses, and the
# DMARC record sends its reports to LEADFLOW_DMARC_RUA (default: dmarc@<domain>).
LEADFLOW_SPF_INCLUDE = env.names_or_networks("LEADFLOW_SPF_INCLUDE")
LEADFLOW_DMARC_RUA = env.str("LEADFLOW_DMARC_RUA")
# The resolver the check asks (ip[:port]); empty: the system's.
LEADFLOW_DNS_RESOLVER = env.ip_port("LEADFLOW_DNS_RESOLVER", 53)

# Website tracking (leadflow/tracking): DNT / Sec-GPC honoured; consent mode sets no cookie
# and sends nothing until the page calls leadflow('consent', true).
LEADFLOW_TRACKING_RESPECT_DNT = env.bool("LEADFLOW_TRACKING_RESPECT_DNT", default=True)
LEADFLOW_TRACKING_CONSENT_MODE = env.bool("LEADFLOW_TRACKING_CONSENT_MODE", default=False)
LEADFLOW_TRACKING_RATE_LIMIT = env.int("LEADFLOW_TRACKING_RATE_LIMIT", 600, minimum=0,
                                       maximum=1_000_000)  # requests per IP per minute

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("LEADFLOW_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Only for `leadflow manage collectstatic` behind a proxy that serves files itself.
_static_root = env.str("LEADFLOW_STATIC_ROOT")
STATIC_ROOT = Path(_static_root) if _static_root else None
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Static files are served by WhiteNoise straight from the installed packages, so a
    # deployment needs no collectstatic step.
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
MEDIA_ROOT = DATA_DIR / "media"

LOG_LEVEL = env.choice("LEADFLOW_LOG_LEVEL", "info",
                       ("debug", "info", "warning", "error", "critical")).upper()
# The request log (one line a request: method, path, status, ms) goes to stdout without
# the logger's name; INFO shows it, WARNING and above hide it.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
                   "request": {"format": "%(asctime)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"},
                 "requests": {"class": "logging.StreamHandler", "formatter": "request",
                              "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "INFO"},
                "leadflow.requests": {"handlers": ["requests"], "propagate": False},
                # Our request log replaces Django's own lines for 4xx/5xx answers.
                "django.request": {"level": "ERROR"},
                # One line per task state is noise beside the worker's own summary lines;
                # failures still show (WARNING and above).
                "django.tasks": {"level": "WARNING"},
                # django-axes narrates every sign-in at INFO; leadflow.security records them.
                "axes": {"level": "WARNING"}},
}

NINJA_PAGINATION_PER_PAGE = 50

# Cache (form rate limits): in-process by default; Redis shared by all processes when
# LEADFLOW_CACHE_URL is set (e.g. redis://127.0.0.1:6379/1).
_cache_url = env.str("LEADFLOW_CACHE_URL")
if _cache_url:
    _cache_url = env.url("LEADFLOW_CACHE_URL", "", ("redis", "rediss", "unix"))
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": _cache_url}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Public forms: posts sooner than this after the form was shown are refused as bots, and
# each IP may post this many times per form in 10 minutes.
LEADFLOW_FORM_MIN_SECONDS = env.int("LEADFLOW_FORM_MIN_SECONDS", 3, minimum=0, maximum=3600)
LEADFLOW_FORM_RATE_LIMIT = env.int("LEADFLOW_FORM_RATE_LIMIT", 20, minimum=1,
                                   maximum=1_000_000)

# Retention (docs/privacy.md): leads with no activity for this many days are due for
# erasure (3 years: what the CNIL expects for prospects); "confirm" waits for an admin,
# "auto" erases them from the worker, "off" erases nothing.
LEADFLOW_RETENTION_DAYS = env.int("LEADFLOW_RETENTION_DAYS", 1095, minimum=30, maximum=36_500)
LEADFLOW_RETENTION_MODE = env.choice("LEADFLOW_RETENTION_MODE", "confirm",
                                     ("confirm", "auto", "off"))
