"""Settings: every value comes from the environment (see the README's table)."""

from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    check_production_environment,
    check_secret_key,
    env_bool,
    env_float,
    env_int,
    env_list,
    env_optional_secret,
    env_secret,
    env_str,
)
from core.encryption_key import check_new_encryption_key_text

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded SQLite database lives here

DEBUG = env_bool("DJANGO_DEBUG", True)

# Development-only fallbacks: never used when DJANGO_DEBUG=0 (env_secret refuses to start).
SECRET_KEY = env_secret(
    "DJANGO_SECRET_KEY", debug=DEBUG, dev_default="dev-insecure-secret-key-not-for-production",
    check=None if DEBUG else check_secret_key,
)
# 32 bytes, base64url: wraps every private key (AES-GCM). Old keys for re-wrapping are passed to
# the `rewrap_keys` command, never kept here.
KEY_ENCRYPTION_KEY = env_secret(
    "KEY_ENCRYPTION_KEY",
    debug=DEBUG,
    dev_default="ZGV2LW9ubHkta2V5LWVuY3J5cHRpb24ta2V5LTMyYiE",
    check=check_new_encryption_key_text,
)

PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://localhost:8000").rstrip("/")
_public = urlsplit(PUBLIC_BASE_URL)
if _public.scheme not in ("http", "https") or not _public.hostname:
    raise ImproperlyConfigured(f"PUBLIC_BASE_URL must be an http(s) origin: {PUBLIC_BASE_URL!r}")
PUBLIC_HOST = _public.hostname
# DIDs of trust anchors (business registers) believed in addition to those marked in the admin.
TRUSTED_ANCHOR_DIDS = env_list("TRUSTED_ANCHOR_DIDS", [])
# Total size of the attachments of one validated message.
MESSAGE_ATTACHMENTS_MAX_BYTES = env_int("MESSAGE_ATTACHMENTS_MAX_BYTES", 5 * 1024 * 1024)

ALLOWED_HOSTS = env_list(
    "DJANGO_ALLOWED_HOSTS",
    ["localhost", "127.0.0.1", "[::1]", "testserver", PUBLIC_HOST] if DEBUG else [PUBLIC_HOST],
)
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc assets, served by us (no CDN)
    "django_countries",  # its catalogs translate the country names of the admin
    "credentials",
    "wallet",
    "passports",
    "openid4vci",
    "openid4vp",
    "webhooks",
    "replication",
]

MIDDLEWARE = [
    "config.observability.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Django's session, auth and messages middleware, skipping the open paths (the Digital Link
    # resolver, its QR codes, the open verify operations), which use none of them:
    # config/public_paths.py. CSRF's stays Django's own, by name (`check --deploy` looks for it).
    "config.public_paths.OpenPathsSessionMiddleware",
    "config.locale.PageLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.public_paths.OpenPathsAuthenticationMiddleware",
    "config.public_paths.OpenPathsMessageMiddleware",
    "wallet.tenancy.login_sessions.MandateSessionMiddleware",  # after auth and messages
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "config.outages.OutageMiddleware",  # 503, not 500, while a backing service is down
    # A 404 of a path a primary's copy is held at (back-up provider) answers with the copy.
    "replication.serving.ReplicaMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

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
            ],
        },
    },
]

# Database: PostgreSQL in production and CI (DATABASE_URL), SQLite under var/ by default.
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# The few queries asked on every verification and page view run as prepared statements on
# PostgreSQL (core/hot_queries.py); 0 behind a pooler in transaction mode that cannot keep them.
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)

# Celery. No broker configured = embedded mode: tasks run in-process (after commit, because
# services enqueue with delay_on_commit), so a fresh checkout needs no server at all.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
# No result backend: nothing reads task results (the database holds every outcome), and one
# would stand in the request path of every enqueue (Celery subscribes to the result before
# publishing, retrying for ~20 s while Redis is down). Set it only for a tool that reads results.
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND")
# Seconds for connecting to the broker and for each socket operation of the worker's and beat's
# connections (a worker's blocking read needs ~1-2 s at least); the worker reconnects forever.
CELERY_BROKER_TIMEOUT = env_int("CELERY_BROKER_TIMEOUT", 2)
# A publish (core/enqueue.py: from a web request, a sweep) tries the broker once through a
# connection of its own, bounded by these seconds for connecting and for each socket operation.
CELERY_PUBLISH_TIMEOUT = env_float("CELERY_PUBLISH_TIMEOUT", 0.5)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_TIMEOUT
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A task is acknowledged when it ends; a pool process that dies puts its task back at once.
# A whole worker that dies (SIGKILL, lost host) leaves its tasks unacknowledged in Redis: the
# sweep (requeue-stale-passports) sends its claimed passports again within seconds, and Redis
# gives the messages back after the visibility timeout (kombu's default is 1 h), which must
# outlast the longest task and countdown (a shorter one runs live tasks twice). One message
# prefetched per process: a dead worker holds no messages it had not started.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = env_int("CELERY_WORKER_PREFETCH_MULTIPLIER", 1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 300)
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 240)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # a publish tries once (core/enqueue.py overrides the timeouts with CELERY_PUBLISH_TIMEOUT)
    "max_retries": 0,
    "socket_connect_timeout": CELERY_BROKER_TIMEOUT,
    "socket_timeout": CELERY_BROKER_TIMEOUT,
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 2 * CELERY_TASK_TIME_LIMIT),
    "unacked_restore_throttle": 1,  # look every 10 s, not every 100 s
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
CELERY_BEAT_SCHEDULE = {
    # Passports a dead worker left claimed are sent again CLAIM_GRACE after the claim.
    "requeue-stale-passports": {"task": "passports.requeue_stale", "schedule": 5.0,
                                "options": {"expires": 5.0}},
    # Safety net of status-list publishing (lost tasks, lists due for re-signing); cheap when
    # there is nothing to do, frequent enough to keep published lists within ~5 s.
    "publish-due-status-lists": {"task": "credentials.publish_due_status_lists",
                                 "schedule": 2.0, "options": {"expires": 2.0}},
    "forget-expired-openid4vp-keys": {"task": "openid4vp.forget_expired_keys",
                                      "schedule": 300.0},
    "requeue-deferred-credentials": {"task": "openid4vci.requeue_deferred_credentials",
                                     "schedule": 60.0},
    "requeue-due-webhook-deliveries": {"task": "webhooks.requeue_due", "schedule": 60.0},
    # Back-up providers (replication/, docs/backup.md): what they lack, and the heartbeat.
    "push-to-backup-providers": {"task": "replication.push_due",
                                 "schedule": env_float("REPLICATION_SYNC_SECONDS", 30.0),
                                 "options": {"expires": 10.0}},
}

# Webhooks (webhooks/, docs/webhooks.md): seconds before each retry of a failed delivery (after
# the first try; the last entry spent, the delivery fails), and one try's deadline.
WEBHOOK_RETRY_SCHEDULE = [float(value) for value in env_list(
    "WEBHOOK_RETRY_SCHEDULE", ["5", "30", "120", "600", "3600", "14400", "43200"])]
WEBHOOK_TIMEOUT_SECONDS = float(env_str("WEBHOOK_TIMEOUT_SECONDS", "5"))
# How long a worker holds the deliveries it claimed (a batch sends for at most 3 timeouts): if
# it dies meanwhile, the sweep sends them again once this has passed.
WEBHOOK_LEASE_SECONDS = env_float("WEBHOOK_LEASE_SECONDS", 60.0)
# Test and benchmark only, empty in production: addresses a webhook may reach although they
# are not public (the local receiver on 127.0.0.1), and an extra CA its certificate comes from.
WEBHOOK_TEST_ALLOWED_ADDRESSES = env_list("WEBHOOK_TEST_ALLOWED_ADDRESSES", [])
# Tests and benchmarks only (empty in production): loopback addresses the guarded fetch may
# reach (a second instance of the service, for chains of evidence across services), and the
# test CA its certificate chains to.
FETCH_TEST_ALLOWED_ADDRESSES = env_list("FETCH_TEST_ALLOWED_ADDRESSES", [])
FETCH_TEST_CA_FILE = env_str("FETCH_TEST_CA_FILE", "") or None
WEBHOOK_TEST_CA_FILE = env_str("WEBHOOK_TEST_CA_FILE", "") or None

# Back-up providers (replication/, docs/backup.md). As a primary: one push's deadline, the
# seconds before each retry after a failed push (the last repeating: a provider is never given
# up), and how long changes are gathered before a push. As a back-up provider: how long the
# primary may stay silent (its sweep pushes at least every REPLICATION_SYNC_SECONDS) before
# the copies say it is unreachable.
REPLICATION_TIMEOUT_SECONDS = env_float("REPLICATION_TIMEOUT_SECONDS", 10.0)
REPLICATION_RETRY_SCHEDULE = [float(value) for value in env_list(
    "REPLICATION_RETRY_SCHEDULE", ["5", "30", "120", "600", "1800"])]
REPLICATION_COALESCE_SECONDS = env_float("REPLICATION_COALESCE_SECONDS", 1.0)
REPLICATION_PRIMARY_SILENT_SECONDS = env_float("REPLICATION_PRIMARY_SILENT_SECONDS", 120.0)

# Cache: Redis when CACHE_URL is set (or the broker is Redis), otherwise per-process memory.
CACHE_URL = env_str(
    "CACHE_URL",
    CELERY_BROKER_URL if (CELERY_BROKER_URL or "").startswith("redis") else None,
)
# Seconds for connecting to Redis and for each command: while it is down, requests go on in
# their degraded mode (core/outages.py) instead of waiting.
CACHE_TIMEOUT = env_float("CACHE_TIMEOUT", 0.25)
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL,
         "OPTIONS": {"socket_connect_timeout": CACHE_TIMEOUT, "socket_timeout": CACHE_TIMEOUT}}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("nl", "Nederlands"), ("de", "Deutsch"), ("fr", "Français")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Partner API (docs/architecture.md, URLs). Organisation API keys; every view names what it needs
# (deny by default); errors are application/problem+json. The open endpoints (verify, VC-API verify,
# resolver, public page) are rate limited per client address by scope, in the cache (Redis when
# configured): "<count>/<second|minute|hour|day>", or "off" (see core/ratelimit.py). NUM_PROXIES:
# how many trusted proxies in front add to X-Forwarded-For (0: the peer address).
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": ["wallet.tenancy.authentication.TokenAuthentication",
                                       "wallet.tenancy.authentication.AccessTokenAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["core.api.permissions.HasScope"],
    "DEFAULT_PARSER_CLASSES": ["core.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "core.api.problems.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_RATES": {
        "verify": env_str("RATE_LIMIT_VERIFY", "600/minute"),
        "public": env_str("RATE_LIMIT_PUBLIC", "300/minute"),
    },
    "NUM_PROXIES": env_int("NUM_PROXIES", 0) or None,
}
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 256 * 1024)  # larger bodies get 413
# How long the verify endpoints reuse the verdict of the same credential while the passports it
# names keep their state (passports/api/verifying.py); 0: never.
API_VERDICT_CACHE_SECONDS = env_int("API_VERDICT_CACHE_SECONDS", 10)
# Chains of evidence (docs/evidence.md): how long a linked credential's bytes and verdict are
# kept in a process (a revocation or a changed document shows within it); 0: not at all.
EVIDENCE_CACHE_SECONDS = max(0, env_int("EVIDENCE_CACHE_SECONDS", 5))
SPECTACULAR_SETTINGS = {
    # Choice sets that share a field name across models get names of their own.
    "ENUM_NAME_OVERRIDES": {
        "WalletCredentialKindEnum": "wallet.tenancy.legal_models.WalletCredential.Kind",
        "WalletCredentialStateEnum": "wallet.tenancy.legal_models.WalletCredential.State",
        "MessageKindEnum": "wallet.business.messaging.models.Message.Kind",
        # Evidence credentials share the passports' states.
        "PassportOutputStateEnum": "passports.models.Passport.State",
        "EvidenceKindEnum": "passports.models.EvidenceCredential.Kind",
    },
    "TITLE": "Digital Product Passport and business wallet API",
    "DESCRIPTION": (
        "Partner API: products, passports and their credentials, restricted passport data for "
        "entitled partners, verification of any credential or presentation, and the W3C VC-API "
        "endpoints. Authenticate with `Authorization: Token <key>` (keys are made in the admin "
        "or with `manage.py api_token <org-slug>`). Errors are `application/problem+json` "
        "(RFC 9457) with a stable `code`."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "passports.api.schema.add_credential_examples"],
}

# Security. Production (DEBUG off) defaults pass `manage.py check --deploy`; a TLS-terminating
# proxy in front sets X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # container health checks speak plain HTTP
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
X_FRAME_OPTIONS = "DENY"

# Logging: one line per request and per task, with its id; JSON when LOG_FORMAT=json.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
LOG_LEVEL = env_str("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "config.observability.ContextFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "config.observability.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            "formatter": "json" if LOG_FORMAT == "json" else "text",
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Our request line replaces Django's own; keep its errors.
        "django.server": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
        "celery": {"level": "WARNING"},
    },
}

# --- OpenID4VP ---
# The Verifier's identity (its client id: see below): a certificate and its P-256 key, each
# as PEM text or a path to a PEM file. Unset: the service makes a self-signed certificate for
# PUBLIC_HOST once and keeps its key wrapped under KEY_ENCRYPTION_KEY.
OPENID4VP_CERTIFICATE = env_str("OPENID4VP_CERTIFICATE")
OPENID4VP_PRIVATE_KEY = env_str("OPENID4VP_PRIVATE_KEY")
if bool(OPENID4VP_CERTIFICATE) != bool(OPENID4VP_PRIVATE_KEY):
    raise ImproperlyConfigured("OPENID4VP_CERTIFICATE and OPENID4VP_PRIVATE_KEY go together: "
                               "set both or neither")
# How the Verifier names itself to wallets (OpenID4VP 1.0 §5.9.3): "x509_hash" (the hash of the
# certificate) or "x509_san_dns" ("x509_san_dns:<PUBLIC_HOST>": the certificate must name that
# host as a dNSName SAN, and the response_uri is on it). Wallets also validate the certificate
# up to a trust anchor they know: real wallets need a CA-issued certificate, not the default
# self-signed one. Requests keep the client id they were made with.
OPENID4VP_CLIENT_ID_PREFIX = env_str("OPENID4VP_CLIENT_ID_PREFIX", "x509_hash")
if OPENID4VP_CLIENT_ID_PREFIX not in ("x509_hash", "x509_san_dns"):
    raise ImproperlyConfigured(f"OPENID4VP_CLIENT_ID_PREFIX must be x509_hash or x509_san_dns, "
                               f"not {OPENID4VP_CLIENT_ID_PREFIX!r}")
if OPENID4VP_CLIENT_ID_PREFIX == "x509_san_dns" and (
        ":" in PUBLIC_HOST or PUBLIC_HOST.replace(".", "").isdigit()):  # an IP address
    raise ImproperlyConfigured(f"OPENID4VP_CLIENT_ID_PREFIX=x509_san_dns needs a DNS name as "
                               f"the host of PUBLIC_BASE_URL, not the address {PUBLIC_HOST}")
# Seconds a presentation request (its request object and its answer) stays usable.
OPENID4VP_REQUEST_SECONDS = env_int("OPENID4VP_REQUEST_SECONDS", 600)
# Logging in with mandates (docs/wallet-login.md): an admin session with presented mandates is
# re-checked at most this often, so it ends within this many seconds of a mandate's revocation,
# suspension or expiry (each act is checked at once anyway); the access tokens exchanged for a
# presentation at /oauth/token live this long (never past a mandate's end).
MANDATE_LOGIN_RECHECK_SECONDS = env_int("MANDATE_LOGIN_RECHECK_SECONDS", 30)
MANDATE_ACCESS_TOKEN_SECONDS = env_int("MANDATE_ACCESS_TOKEN_SECONDS", 600)
# Passwords, except for staff of organisations that require the wallet; sessions of presented
# mandates get exactly those mandates' permissions (wallet.tenancy.login_sessions).
AUTHENTICATION_BACKENDS = ["wallet.tenancy.login_sessions.MandateAwareBackend"]

# --- OpenID4VCI ---
# Issuing wallet credentials into EU wallets (openid4vci/): lifetimes in seconds.
# Pre-authorized codes (and their credential offers) are single-use and short-lived.
OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS = env_int("OPENID4VCI_PRE_AUTHORIZED_CODE_SECONDS", 600)
# Bearer access tokens: short-lived (OpenID4VCI §13.9: longer than 5 minutes counts as long).
OPENID4VCI_ACCESS_TOKEN_SECONDS = env_int("OPENID4VCI_ACCESS_TOKEN_SECONDS", 300)
# c_nonce values from the nonce endpoint, and how old a key proof's iat may be.
OPENID4VCI_NONCE_SECONDS = env_int("OPENID4VCI_NONCE_SECONDS", 300)
OPENID4VCI_PROOF_MAX_AGE_SECONDS = env_int("OPENID4VCI_PROOF_MAX_AGE_SECONDS", 300)
# How long a deferred issuance (a review still open) may wait for the wallet to collect it.
OPENID4VCI_DEFERRED_SECONDS = env_int("OPENID4VCI_DEFERRED_SECONDS", 14 * 86400)
# Validity of an issued copy whose source has no end date of its own.
OPENID4VCI_CREDENTIAL_DAYS = env_int("OPENID4VCI_CREDENTIAL_DAYS", 365)
# The protocol endpoints (metadata, token, nonce, credential) per client address.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["openid4vci"] = env_str("RATE_LIMIT_OPENID4VCI",
                                                                 "300/minute")
# The offer state enum of the API schema gets a name of its own (others have a `state` too).
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["CredentialOfferStateEnum"] = (
    "openid4vci.models.CredentialOffer.State")
# How the copies name their issuer: "did" (iss = the organisation's did:web, kid its DID URL) or
# "x509" (HAIP 1.0: iss = the Credential Issuer identifier, the key in an x5c certificate issued
# by the service's issuing CA to organisations whose identity a trust anchor attested; the
# default, as HAIP 1.0 §6.1.1 requires; their Token Status Lists carry the same x5c).
OPENID4VCI_ISSUER_IDENTIFICATION = env_str("OPENID4VCI_ISSUER_IDENTIFICATION", "x509")
if OPENID4VCI_ISSUER_IDENTIFICATION not in ("did", "x509"):
    raise ImproperlyConfigured(f"OPENID4VCI_ISSUER_IDENTIFICATION must be did or x509, not "
                               f"{OPENID4VCI_ISSUER_IDENTIFICATION!r}")
# The issuing CA in x509 mode (PEM text or paths; P-256 key): both or neither. Neither: the
# service makes a self-signed root once (wallets must be given it as a trust anchor).
OPENID4VCI_CA_CERTIFICATE = env_str("OPENID4VCI_CA_CERTIFICATE", "")
OPENID4VCI_CA_PRIVATE_KEY = env_str("OPENID4VCI_CA_PRIVATE_KEY", "")
if bool(OPENID4VCI_CA_CERTIFICATE) != bool(OPENID4VCI_CA_PRIVATE_KEY):
    raise ImproperlyConfigured("OPENID4VCI_CA_CERTIFICATE and OPENID4VCI_CA_PRIVATE_KEY go "
                               "together: set both or neither")
# Wallet Attestation (OpenID4VCI 1.0 Appendix E, HAIP 1.0 §4.4.1): the X.509 roots of the wallet
# providers whose attestations this issuer accepts, PEM text or a path. Set: every wallet
# authenticates at the PAR and token endpoints with an attestation chaining to one of them.
OPENID4VCI_WALLET_ATTESTATION_ANCHORS = env_str("OPENID4VCI_WALLET_ATTESTATION_ANCHORS", "")
if (OPENID4VCI_WALLET_ATTESTATION_ANCHORS
        and "-----BEGIN CERTIFICATE-----" not in OPENID4VCI_WALLET_ATTESTATION_ANCHORS
        and not Path(OPENID4VCI_WALLET_ATTESTATION_ANCHORS).is_file()):
    raise ImproperlyConfigured("OPENID4VCI_WALLET_ATTESTATION_ANCHORS must be PEM certificates "
                               "or the path of a PEM file")

# --- Foreign issuers ---
# SD-JWT VCs from issuers that are not DIDs (EU PID and (Q)EAA providers, HAIP 1.0): the X.509
# trust anchors their x5c chains must lead to (in production, the anchors of the EU trusted
# lists), as PEM text or a path to a PEM bundle. Empty: no x5c-signed credential is accepted.
OPENID4VP_TRUSTED_ISSUER_CERTIFICATES = env_str("OPENID4VP_TRUSTED_ISSUER_CERTIFICATES", "")
if (OPENID4VP_TRUSTED_ISSUER_CERTIFICATES
        and "-----BEGIN CERTIFICATE-----" not in OPENID4VP_TRUSTED_ISSUER_CERTIFICATES
        and not Path(OPENID4VP_TRUSTED_ISSUER_CERTIFICATES).is_file()):
    raise ImproperlyConfigured("OPENID4VP_TRUSTED_ISSUER_CERTIFICATES must be PEM certificates "
                               "or the path of a PEM file")
# https issuers trusted on their JWT VC Issuer Metadata alone (no certificate chain), comma
# separated. Others identified that way verify but are reported as not trusted.
OPENID4VP_TRUSTED_ISSUERS = env_list("OPENID4VP_TRUSTED_ISSUERS", [])

# --- Deployment: beat's heartbeat, metrics, start-up validation ---
# Beat keeps its schedule under VAR_DIR and touches a heartbeat file there (its health check,
# config/beat.py), so compose and `make serve` start it with the same command.
CELERY_BEAT_SCHEDULER = "config.beat:HeartbeatScheduler"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# /health/ and /metrics answer whatever Host the probe sends, over plain HTTP (config/probes.py):
# right after the request log, before the host check and the HTTPS redirect.
MIDDLEWARE.insert(MIDDLEWARE.index("config.observability.RequestLogMiddleware") + 1,
                  "config.probes.ProbeMiddleware")
# Prometheus metrics at /metrics for `Authorization: Bearer <METRICS_TOKEN>`; unset: no metrics.
METRICS_TOKEN = env_optional_secret("METRICS_TOKEN", min_length=32)
# Production refuses to start on a missing value, a placeholder or an example host, naming the
# variable in one line (config/env.py; the secrets are checked where they are read, above).
check_production_environment(debug=DEBUG, public_base_url=PUBLIC_BASE_URL,
                             database_password=DATABASES["default"].get("PASSWORD"))
