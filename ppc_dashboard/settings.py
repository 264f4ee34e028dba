"""Settings, all read from the environment.

No configuration at all gives the embedded default: SQLite in the project folder, Celery tasks
executed eagerly in-process, an in-memory cache. DATABASE_URL (PostgreSQL) and REDIS_URL switch
on the production shape. See the configuration table in README.md.
"""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

# Behind a TLS-terminating proxy the request's own URL is http://<internal host>/...; trusting
# the proxy's X-Forwarded-Proto and X-Forwarded-Host makes it the public https URL again, which
# is what Twilio signs. Only for a proxy that sets (or strips) both headers on every request.
# On by default with DEBUG off, which has always meant "behind a TLS proxy".
TRUST_X_FORWARDED = env_bool("TRUST_X_FORWARDED", not DEBUG)
if TRUST_X_FORWARDED:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "csp",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "ppc_dashboard.tenancy",
    "publishers",
    "routing",
    "calls",
    "kpis",
    "alerts",
    "ops",
    "demo",
]

MIDDLEWARE = [
    "ops.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "ppc_dashboard.tenancy.middleware.RequestBodyLimitMiddleware",
    "ppc_dashboard.static_files.StaticFilesMiddleware",
    "ppc_dashboard.content_security_policy.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a refused login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ppc_dashboard.urls"
WSGI_APPLICATION = "ppc_dashboard.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ppc_dashboard.tenancy.context_processors.current_organization",
            ],
            # Tag libraries of packages that are not apps of their own.
            "libraries": {"kpi_format": "kpis.pages.templatetags.kpi_format"},
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default under concurrent writers (an import and Twilio callbacks): WAL lets
    # readers read while one writes; IMMEDIATE takes the write lock when a transaction begins,
    # so a second writer waits for it (up to the busy timeout) instead of failing with
    # "database is locked" when its read snapshot goes stale under the first writer's commit.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": int(os.environ.get("SQLITE_BUSY_TIMEOUT_SECONDS", "30")),
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# --- Login lockout (django-axes) -------------------------------------------------------------
# Failed logins are counted per account and, separately, per client address; at the limit both
# the page and the admin refuse even the right password until the cool-off has passed since
# the last failure (a failure during the lockout starts it again).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A login clears the failures of its own account only (tenancy.receivers): axes' own reset
# would also clear every failure from the address, so a login to an account of one's own
# between guesses would reset the count against someone else's.
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "ppc_dashboard.tenancy.throttling.client_address"
AXES_LOCKOUT_CALLABLE = "ppc_dashboard.tenancy.views.login_locked_out"

# How long the emailed link of an invitation to join an organization works (once).
INVITATION_MAX_AGE = dt.timedelta(days=int(os.environ.get("INVITATION_DAYS", "7")))

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# plotly.js is a vendored static file (static/plotly/, ppc_dashboard/static_files.py
# PLOTLY_JS), never from a CDN: the pages work with no internet.
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
# Hashed names, gzip and Brotli variants, a year of caching: in every mode, `make run`
# (DEBUG on) included. It needs `manage.py collectstatic`, which `make run`, `make migrate`
# and the Docker image run (ppc_dashboard/static_files.py).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "ppc_dashboard.static_files.HashedStaticFilesStorage"},
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "media/"

# --- Redis: broker and cache; absent means the embedded default -------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, keeping one client per pool and counting in one round trip.
            "BACKEND": "ppc_dashboard.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "ppc",
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = None
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True

# Live routing (routing/live_state.py): a call sent to a buyer holds one of its concurrency
# slots until its dial ends; a slot whose end never arrives expires after the ring timeout
# plus this longest call.
ROUTING_MAX_CALL_SECONDS = int(os.environ.get("ROUTING_MAX_CALL_SECONDS", str(2 * 60 * 60)))

CELERY_TASK_IGNORE_RESULT = True
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A worker that loses Redis reconnects, however long it takes, instead of exiting.
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
# ... and survives Redis dropping while it holds tasks (see the class).
CELERY_WORKER_CONSUMER = "ppc_dashboard.celery:BrokerLossSurvivingConsumer"
# A task whose worker process died (OOM killer, a kill) goes back to the queue, not lost.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# An unacknowledged task comes back after this long: longer than any task runs (the longest,
# a full rebuild of a 10M-call tenant, takes about a minute), short enough that a task of a
# killed worker is not stuck for the Redis default of an hour.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(30 * 60)))
}
# Tenants and campaigns store verdict-threshold overrides; this class judges them (tenancy
# imports no app, so it finds the class here).
VERDICT_THRESHOLDS_CLASS = "kpis.verdicts.VerdictThresholds"
# Database connections a full rollup rebuild uses at once (PostgreSQL; about one per core).
ROLLUP_REBUILD_WORKERS = int(os.environ.get("ROLLUP_REBUILD_WORKERS", "2"))

# Safety nets behind the write-path refreshes (kpis.tasks); the weekly mail (kpis.reports.tasks).
# How often beat refreshes every tenant with dirty days (the net under a lost refresh task).
ROLLUPS_SAFETY_NET_SECONDS = float(os.environ.get("ROLLUPS_SAFETY_NET_SECONDS", "60"))
CELERY_BEAT_SCHEDULE = {
    "rollups-refresh-pending": {
        "task": "kpis.tasks.rollups_refresh_pending_task",
        "schedule": ROLLUPS_SAFETY_NET_SECONDS,
    },
    "rollups-rederive-recent": {
        "task": "kpis.tasks.rollups_rederive_recent_task",
        "schedule": 6 * 3600.0,
    },
    # Imports whose worker died are restarted (they resume), then failed with a reason.
    "call-imports-sweep": {
        "task": "calls.tasks.call_imports_sweep_task",
        "schedule": float(os.environ.get("IMPORT_SWEEP_SECONDS", "60")),
    },
    # /readyz says the worker is down when this stops being run.
    "worker-heartbeat": {"task": "ops.tasks.worker_heartbeat_task", "schedule": 30.0},
    # Alert rules judged from the rollups (alerts.services.alerts_evaluate).
    "alerts-evaluate": {"task": "alerts.tasks.alerts_evaluate_all_task", "schedule": 60.0},
    # Hourly, so every tenant's local Monday 08:00 is hit whatever its UTC offset.
    "weekly-reports-send": {
        "task": "kpis.tasks.weekly_reports_send_task",
        "schedule": 3600.0,
    },
    # Outbound webhooks due for a (re)try: retries wait here, and sends whose enqueue was lost.
    "webhook-deliveries-sweep": {
        "task": "alerts.tasks.webhook_deliveries_sweep_task",
        "schedule": float(os.environ.get("WEBHOOK_SWEEP_SECONDS", "15")),
    },
    "webhook-log-prune": {"task": "alerts.tasks.webhook_log_prune_task", "schedule": 3600.0},
    # Follow-ups of the calls written in the last minute (alerts.followups).
    "followups-scan": {"task": "alerts.tasks.followups_scan_all_task", "schedule": 60.0},
    "twilio-callbacks-prune": {
        "task": "calls.tasks.twilio_callbacks_prune_task",
        "schedule": 3600.0,
    },
}
# The Twilio callbacks kept as facts of their call (calls.TwilioCallback) go this many days
# after the call's last one: Twilio retries within hours; a later one is a replay.
TWILIO_CALLBACK_DAYS = int(os.environ.get("TWILIO_CALLBACK_DAYS", "35"))

# --- Outbound webhooks (alerts.outbound) ------------------------------------------------------
# Private networks and plain http to this machine as targets: for development and the tests only
# (see alerts.webhook_targets); production allows https to public addresses only.
WEBHOOKS_ALLOW_LOCAL_TARGETS = env_bool("WEBHOOKS_ALLOW_LOCAL_TARGETS", DEBUG)
WEBHOOK_TIMEOUT_SECONDS = float(os.environ.get("WEBHOOK_TIMEOUT_SECONDS", "10"))
# Attempts of one delivery before it is failed, and the waits between them.
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "6"))
WEBHOOK_RETRY_SCHEDULE_SECONDS = (30.0, 120.0, 600.0, 3600.0, 6 * 3600.0)
# Days of events and deliveries kept in the delivery log.
WEBHOOK_LOG_DAYS = int(os.environ.get("WEBHOOK_LOG_DAYS", "30"))
# How long the previous secret still signs after a rotation.
WEBHOOK_SECRET_OVERLAP = dt.timedelta(hours=24)

# --- Email --------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ppc-dashboard <noreply@localhost>")
# Where the site is, for links in mails sent without a request (the scheduled reports'
# unsubscribe link), e.g. https://calls.example.com.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# --- Request size limits ------------------------------------------------------------------
# Bodies over these sizes are refused with 413 from the Content-Length header, before reading.
API_MAX_BODY_BYTES = int(os.environ.get("API_MAX_BODY_BYTES", str(16 * 1024 * 1024)))
IMPORT_MAX_BYTES = int(os.environ.get("IMPORT_MAX_BYTES", str(256 * 1024 * 1024)))
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# An unfinished import silent this long (no heartbeat: one comes after every 1,000 rows) is
# enqueued again, at most IMPORT_MAX_RESTARTS times; then it is failed with a reason.
IMPORT_STALE_SECONDS = int(os.environ.get("IMPORT_STALE_SECONDS", "300"))
IMPORT_MAX_RESTARTS = int(os.environ.get("IMPORT_MAX_RESTARTS", "3"))
# Imports up to this many bytes are processed inside the request; larger ones go to Celery.
IMPORT_INLINE_MAX_BYTES = int(os.environ.get("IMPORT_INLINE_MAX_BYTES", str(1024 * 1024)))
CALLS_BATCH_MAX_ITEMS = 5000

# --- REST API -----------------------------------------------------------------------------
# Each process remembers the API keys it found for this long (tenancy.services): a key revoked
# in one process stops working there at once, and in the others within these seconds.
API_KEY_CACHE_SECONDS = float(os.environ.get("API_KEY_CACHE_SECONDS", "5"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ppc_dashboard.tenancy.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["ppc_dashboard.tenancy.permissions.IsOrganizationMember"],
    "DEFAULT_THROTTLE_CLASSES": ["ppc_dashboard.tenancy.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "api_key": os.environ.get("API_RATE_LIMIT", "1200/min"),
        # Failed API key, webhook token and invitation link lookups per client address.
        "credential_failures": os.environ.get("CREDENTIAL_FAILURE_LIMIT", "20/min"),
    },
    # JSON only, with bounds on depth, numbers and text (tenancy/parsers.py); the import
    # upload declares multipart itself. A form post would read a missing field as blank.
    "DEFAULT_PARSER_CLASSES": ["ppc_dashboard.tenancy.parsers.BoundedJSONParser"],
    "DEFAULT_FILTER_BACKENDS": ["ppc_dashboard.tenancy.filters.TenantFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "ppc_dashboard.tenancy.pagination.IdCursorPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "ppc_dashboard.tenancy.exceptions.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
# The operations' tags, in the order an integrator needs them: getting calls in first, then
# the configuration they refer to, then what the dashboard computes from them.
API_TAGS: list[dict[str, str]] = [
    {
        "name": "calls",
        "description": "Post call records as they end (one or a batch), record late "
        "conversions, list, read, delete and export them.",
    },
    {
        "name": "imports",
        "description": "Upload a CSV export from another platform (Ringba, Retreaver, Invoca, "
        "CallRail, Twilio, Asterisk or the native format) and follow its progress.",
    },
    {
        "name": "campaigns",
        "description": "What calls are bought for: payout, qualifying "
        "seconds, RPM floor, duplicate window, verdict thresholds.",
    },
    {"name": "publishers", "description": "The affiliates that send calls."},
    {
        "name": "buyers",
        "description": "The call centers calls are routed to, with their hours, caps and geo.",
    },
    {
        "name": "tracking-numbers",
        "description": "Numbers that map a call to its campaign and publisher.",
    },
    {
        "name": "routing",
        "description": "Live routing: where a call should go now, by the campaign's plan, "
        "the buyers' hours, geo, caps and concurrency.",
    },
    {
        "name": "routing-plans",
        "description": "Per campaign, which buyers a call tries and in what order: tiers, "
        "weights, repeats to the first buyer; saved as versions, never edited.",
    },
    {"name": "ad-spend", "description": "What was spent per campaign (and publisher) per day."},
    {"name": "kpis", "description": "The KPIs of KPIS.md over a date range, grouped."},
    {"name": "verdicts", "description": "Scale / watch / fix / cut, with the reasons."},
    {
        "name": "qualifying-thresholds",
        "description": "Suggested qualifying durations per campaign.",
    },
    {"name": "reallocation", "description": "Budget moves between publishers by their RPM."},
    {
        "name": "alerts",
        "description": "Incidents the alert rules opened: open and resolved, with the numbers "
        "behind them; acknowledge one.",
    },
    {
        "name": "alert-rules",
        "description": "What to be alerted about: a default per kind, overridden per campaign, "
        "with thresholds, cooldown and channels.",
    },
    {
        "name": "what-if",
        "description": "Routing coverage per hour of the week, and a campaign's past calls "
        "replayed through an edited routing plan.",
    },
    {
        "name": "webhook-endpoints",
        "description": "Where alerts and follow-ups are posted: signed JSON or Slack, with "
        "secret rotation and a test event.",
    },
    {
        "name": "webhook-deliveries",
        "description": "The delivery log: each event to each endpoint, its attempts, status "
        "codes and response times; redeliver a failed one.",
    },
    {
        "name": "follow-ups",
        "description": "Callers to call back (missed or not converted calls), their rules per "
        "campaign, and marking them contacted, recovered or lost.",
    },
]

SPECTACULAR_SETTINGS = {
    "TITLE": "ppc-dashboard API",
    "DESCRIPTION": (
        "Post call records, conversions and configuration for one organization. "
        "Authenticate with `Authorization: Api-Key <key>` (or `X-Api-Key: <key>`)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Tags in the order an integrator needs them (calls and imports first).
    "TAGS": API_TAGS,
    # Every operation's error answers in the one error shape; ids with their bounds.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "ppc_dashboard.api_schema.error_responses",
    ],
    # Several models have a `status` (or `kind`) field with different choices; name each enum.
    "ENUM_NAME_OVERRIDES": {
        "CallStatusEnum": "calls.models.CallStatus",
        "CampaignStatusEnum": "calls.models.CampaignStatus",
        "ImportStatusEnum": "calls.models.ImportStatus",
        "WebhookDeliveryStatusEnum": "alerts.models.DeliveryStatus",
        "WebhookKindEnum": "alerts.models.EndpointKind",
    },
}

# --- Content-Security-Policy (django-csp) -------------------------------------------------
# Scripts, styles and everything else come from our own origin only: no inline script or
# event handler (pages load theirs from static/js; Plotly figures are JSON data blocks drawn by
# static/js/charts.js) and no eval. Images may be data: and blob: URLs (Swagger UI's icons, the
# PNG download of a Plotly chart). plotly.js styles its charts through two inline <style>
# elements, allowed by the hash of their exact text, and nothing else inline is:
# - an empty one it then fills through the CSSOM (which CSP does not govern), also the empty
#   style="" it gives a colorbar ('unsafe-hashes' lets the hash cover attributes);
# - maplibre's rules, for map traces. A plotly upgrade that changes them makes the browser test
#   (tests/browser/test_content_security_policy.py) fail with Chromium naming the new hash.
PLOTLY_STYLE_HASHES = [
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",  # "" (empty)
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='",  # maplibre-gl's CSS, plotly.js 4.1
]
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_HASHES, *PLOTLY_STYLE_HASHES],
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Production hardening (manage.py check --deploy passes with DEBUG off) ----------------
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Failures and lockouts are warnings; every login and its bookkeeping is noise.
        "axes": {"level": "WARNING"},
    },
}
