"""Baogong settings: one module, read from the environment (see core/env.py)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from baogong.core.env import env_bool, env_int, env_list, env_str, secret_key_from_env_or_file

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("BAOGONG_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", True)
SECRET_KEY = secret_key_from_env_or_file(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "ninja",  # serves the Swagger UI assets of /api/docs locally (no CDN)
    "axes",
    "django_tasks",
    "django_tasks_db",
    "baogong.core",
    "baogong.accounts",
    "baogong.areas",
    "baogong.supply",
    "baogong.demo",
    "baogong.orders",
    "baogong.notify",
    "baogong.payments",
    "baogong.fulfilment",
    "baogong.welfare",
    "baogong.requisitions",
    "baogong.monitoring",
    "baogong.lastmile",
    "baogong.distributions",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # baogong.core.middleware.X is middleware X bypassed by token-authenticated /api/
    # requests (no session cookie), which need none of it: a tenth of a millisecond
    # each on every order placement. Browsers and session-authenticated API routes
    # run it unchanged. Locale stays: API error messages follow Accept-Language.
    "baogong.core.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "baogong.core.middleware.CsrfViewMiddleware",
    "baogong.core.middleware.AuthenticationMiddleware",
    "baogong.core.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "baogong.core.middleware.HistoryRequestMiddleware",
    "baogong.core.middleware.PasswordChangeRequiredMiddleware",
    # Answers token API requests on a fast route (order placement) without ninja.
    "baogong.core.middleware.TokenApiFastPath",
    # Last, so that it sees the outcome of authentication (django-axes docs).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "baogong.urls"
WSGI_APPLICATION = "baogong.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "baogong.accounts.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'baogong.sqlite3'}"),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        # Off by default: the check is a `SELECT 1` round trip before the first query of every
        # request (a seventh of the API workers' time in the order benchmark). Without
        # it, a connection broken by a PostgreSQL restart fails the one request that
        # meets it; Django closes a connection that saw an error at the end of that
        # request, so the next one reconnects. The failed request's transaction rolls
        # back whole, and API writes are idempotent, so a client's retry is safe.
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", False),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the task worker read while the other writes;
    # IMMEDIATE makes a write transaction take the lock up front instead of
    # failing with "database is locked" when it first writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# Notifications (baogong.notify): the SMS gateway and the worker's retry policy.
NOTIFY_SMS_BACKEND = env_str("NOTIFY_SMS_BACKEND", "baogong.notify.sms.ConsoleBackend")
NOTIFY_SMS_URL = env_str("NOTIFY_SMS_URL")
NOTIFY_SMS_KEY = env_str("NOTIFY_SMS_KEY")
NOTIFY_SMS_TIMEOUT = env_int("NOTIFY_SMS_TIMEOUT", 10)  # seconds per request
NOTIFY_SMS_MAX_ATTEMPTS = env_int("NOTIFY_SMS_MAX_ATTEMPTS", 5)
NOTIFY_SMS_RETRY_SECONDS = env_int("NOTIFY_SMS_RETRY_SECONDS", 60)  # doubled per attempt
NOTIFY_CUTOFF_REMINDER_HOURS = env_int("NOTIFY_CUTOFF_REMINDER_HOURS", 2)
# A crew member's last negative test must be this recent at the end of the arrival window.
FULFILMENT_TEST_WINDOW_HOURS = env_int("FULFILMENT_TEST_WINDOW_HOURS", 48)
# Active supply-team volunteers each building should have (the plan says 2–3).
LASTMILE_VOLUNTEERS_PER_BUILDING = env_int("LASTMILE_VOLUNTEERS_PER_BUILDING", 2)

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Failed-login rate limiting: five failures for one phone number from one
# address lock that pair out for 15 minutes.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every request otherwise
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "media"

# Uploaded registers are read in memory up to this size; bigger files are refused
# with a message rather than a 500.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = IMPORT_MAX_BYTES + 1024 * 1024

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 12 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("BEHIND_TLS_PROXY", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Logs carry no personal data: request bodies and phone numbers are never logged.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

BAOGONG_SITE_NAME = _("Baogong")
