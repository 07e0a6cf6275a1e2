"""Settings, all from the environment (12-factor); defaults suit the embedded demo."""

import os
from pathlib import Path

import dj_database_url

from doorstep.runtime import new_token, read_or_create_secret, var_dir

VAR_DIR = var_dir()

SECRET_KEY = os.environ.get("DOORSTEP_SECRET_KEY") or read_or_create_secret("secret_key", new_token)
DEBUG = os.environ.get("DOORSTEP_DEBUG", "0") == "1"
ALLOWED_HOSTS = os.environ.get("DOORSTEP_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(
    ","
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "doorstep.audit",
    "doorstep.ledger",
    "doorstep.contact",
    "doorstep.placements",
    "doorstep.intake",
    "doorstep.compliance",
    "doorstep.scoring",
    "doorstep.strategy",
    "doorstep.visits",
    "doorstep.arrangements",
    "doorstep.complaints",
    "doorstep.payments",
    "doorstep.worklist",
    "doorstep.api",
    "doorstep.portal",
    "doorstep.console",
    "doorstep.web",
    # Background work (docs/operations.md): Django's tasks API, backported to 5.2 by django-tasks,
    # with the database backend of django-tasks-db. After doorstep.web, whose db_worker (the
    # package's worker plus the recovery of its own abandoned tasks) takes precedence.
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "doorstep.urls"
WSGI_APPLICATION = "doorstep.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "doorstep.console.nav.console_nav",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'doorstep.sqlite3'}"),
        conn_max_age=60,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend without the `_like` pattern-ops indexes on text keys (doorstep.postgres.base
    # says why); the vendor is still "postgresql".
    DATABASES["default"]["ENGINE"] = "doorstep.postgres"
    # PostgreSQL's JIT spends a second compiling each large statement that then runs in tens of
    # milliseconds (measured on the positions pass); it does not pay for doorstep's workload.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend with WAL checkpoints in a background thread, not in some writer's COMMIT
    # (doorstep.sqlite.base says why); the vendor is still "sqlite".
    DATABASES["default"]["ENGINE"] = "doorstep.sqlite"
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the demo server read while an import or the nightly run writes.
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-200000; "
            "PRAGMA temp_store=MEMORY;"
        ),
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
    # Tests use a file, not memory: the nightly run reads and writes through ADBC, its own
    # connection, which cannot see an in-memory database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Where background jobs go (docs/operations.md): rows in the database, run by `doorstep db_worker`.
# DOORSTEP_TASKS_BACKEND=django_tasks.backends.immediate.ImmediateBackend runs each job at once in
# the process that enqueues it (no worker).
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DOORSTEP_TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
USE_TZ = True
# The lender's home zone; each region carries its own zone for "as of" and contact hours.
TIME_ZONE = os.environ.get("DOORSTEP_TIME_ZONE", "Asia/Shanghai")

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise serves from finders in the demo; it wants the dir
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "admin:login"

# Personal data (DOMAIN §9): base64 key for AES-GCM; generated into var/ for the demo when unset.
DOORSTEP_PII_KEY = os.environ.get("DOORSTEP_PII_KEY", "")

# Charges per product (DOMAIN §2): a one-off late fee (滞纳金) once an instalment is more than
# `late_fee_grace_days` overdue, and daily penalty interest (罚息) on overdue principal.
DOORSTEP_CHARGES = {
    "micro_loan": {"late_fee_cents": 0, "late_fee_grace_days": 3, "penalty_bps_per_day": 5},
    "instalment": {"late_fee_cents": 3000, "late_fee_grace_days": 3, "penalty_bps_per_day": 5},
    "credit_card": {"late_fee_cents": 5000, "late_fee_grace_days": 3, "penalty_bps_per_day": 5},
}
# Payment allocation order within an instalment; instalments are always paid oldest first.
DOORSTEP_ALLOCATION_ORDER = ("late_fee", "penalty_interest", "fee", "interest", "principal")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DOORSTEP_LOG_LEVEL", "WARNING")},
}

# The strategy the nightly run and real-time re-evaluation use: the newest version of this name
# (the shipped default is published on first use). DuckDB threads for the nightly run.
DOORSTEP_STRATEGY = os.environ.get("DOORSTEP_STRATEGY", "default")
DOORSTEP_DUCKDB_THREADS = int(os.environ.get("DOORSTEP_DUCKDB_THREADS", "2"))
# The nightly run on Spark (`nightly --engine spark --snapshot DIR`; docs/scaling.md): the master
# (local[N] in this process's own JVM, or spark://host:7077 and the like for a cluster, which must
# see the snapshot directory at the same path), shuffle partitions (Spark's 200 is for clusters;
# a few per core suit local runs), the driver JVM's heap (read when the JVM starts), and any other
# Spark setting as key: value.
DOORSTEP_SPARK = {
    "master": os.environ.get("DOORSTEP_SPARK_MASTER", "local[2]"),
    # 16: at a million accounts, 4 partitions of the features' window over the entries
    # (tens of millions of rows) each outgrew what a 2 GB driver gives its tasks.
    "shuffle_partitions": int(os.environ.get("DOORSTEP_SPARK_SHUFFLE_PARTITIONS", "16")),
    "driver_memory": os.environ.get("DOORSTEP_SPARK_DRIVER_MEMORY", "2g"),
    # Broadcast joins off: Spark's size estimate of the joined snapshot relations is far below
    # what they hold once decoded, and broadcasting one ran a 2 GB driver out of memory at a
    # million accounts; sort-merge joins spill to disk instead. On a cluster, set it back.
    "conf": {
        "spark.sql.autoBroadcastJoinThreshold": os.environ.get(
            "DOORSTEP_SPARK_BROADCAST_THRESHOLD", "-1"
        )
    },
}

# The compliance rule pack in force (src/doorstep/compliance/packs/NAME.yaml) and how long a
# permit from the guard stays valid after its planned time.
DOORSTEP_RULE_PACK = os.environ.get("DOORSTEP_RULE_PACK", "cn-default")
DOORSTEP_PERMIT_MINUTES = int(os.environ.get("DOORSTEP_PERMIT_MINUTES", "30"))
# The audit trail's anchor file (`doorstep audit anchor` appends the chain's head to it); by
# default one file per database under the var dir. Keep a copy off the database's machine.
DOORSTEP_AUDIT_ANCHOR_FILE = os.environ.get("DOORSTEP_AUDIT_ANCHOR_FILE", "")

# The providers messages leave through (contact.channels; dotted paths). The default sends nothing
# (development and the demo); DOORSTEP_SMS_BACKEND=doorstep.contact.channels.HttpSmsBackend with
# DOORSTEP_SMS_URL and DOORSTEP_SMS_TOKEN for a real gateway, or ...SandboxSmsBackend below.
DOORSTEP_SMS_BACKEND = os.environ.get(
    "DOORSTEP_SMS_BACKEND", "doorstep.contact.channels.OutboxBackend"
)
DOORSTEP_EMAIL_BACKEND = os.environ.get(
    "DOORSTEP_EMAIL_BACKEND", "doorstep.contact.channels.OutboxBackend"
)
DOORSTEP_PUSH_BACKEND = os.environ.get(
    "DOORSTEP_PUSH_BACKEND", "doorstep.contact.channels.OutboxBackend"
)
DOORSTEP_SMS_URL = os.environ.get("DOORSTEP_SMS_URL", "")
DOORSTEP_SMS_TOKEN = os.environ.get("DOORSTEP_SMS_TOKEN", "")
DOORSTEP_PUSH_URL = os.environ.get("DOORSTEP_PUSH_URL", "")
DOORSTEP_PUSH_TOKEN = os.environ.get("DOORSTEP_PUSH_TOKEN", "")
# The outbox (contact.domain.drain_outbox): a message left `sending` (the sender died between
# marking it and the provider's answer) is asked about again, under the same reference, only once
# it has been sending this long.
DOORSTEP_OUTBOX_STUCK_SECONDS = int(os.environ.get("DOORSTEP_OUTBOX_STUCK_SECONDS", "600"))
# The sandbox SMS provider (contact.channels.SandboxSmsBackend): its record of what it delivered,
# kept outside doorstep's database as a provider's would be, and its answer's latency.
DOORSTEP_SMS_SANDBOX_FILE = os.environ.get(
    "DOORSTEP_SMS_SANDBOX_FILE", str(VAR_DIR / "sms-sandbox.sqlite3")
)
DOORSTEP_SMS_SANDBOX_LATENCY_MS = int(os.environ.get("DOORSTEP_SMS_SANDBOX_LATENCY_MS", "0"))

# When the nightly run's actions go out the next day, in the borrower's local time: messages and
# letters, call tasks. The guard screens them for those times (DOMAIN §8).
DOORSTEP_SEND_TIMES = {"message": "10:00", "call_task": "09:00"}

# Uploaded files (credential photos, visit evidence, notice letters) under the var dir; served
# only through views that check who asks, never as public media.
MEDIA_ROOT = VAR_DIR / "media"

# Home visits (DOMAIN §5). The notice lead time and the decline hold are the workflow's; the
# guard's pack holds the same notice figure as a rule. Evidence uploads: types and size.
DOORSTEP_VISITS = {
    "notice_days": int(os.environ.get("DOORSTEP_VISIT_NOTICE_DAYS", "3")),
    # A reschedule goes at most this many days past the earliest day allowed (the notice lead).
    "reschedule_span_days": 30,
    "decline_hold_days": 30,
    "repropose_after_broken_days": 14,
    "speed_kmh": 25,
    "service_minutes": 40,
    "routing_seconds": 5.0,
    # Strategy rule ids whose proposals approve themselves (empty: a supervisor approves all).
    "auto_approve_rules": tuple(
        r for r in os.environ.get("DOORSTEP_VISIT_AUTO_APPROVE_RULES", "").split(",") if r
    ),
    "evidence_max_bytes": 10 * 1024 * 1024,
    "lookups_per_hour": 20,
    "lender_name": os.environ.get("DOORSTEP_LENDER_NAME", "Doorstep Consumer Finance"),
    "lender_phone": os.environ.get("DOORSTEP_LENDER_PHONE", "400-000-0000"),
}
# Where borrowers reach doorstep (links in notices and letters: the answer page, the verify page).
DOORSTEP_PUBLIC_URL = os.environ.get("DOORSTEP_PUBLIC_URL", "http://127.0.0.1:8000")

# Repayment arrangements (DOMAIN §6). `limits` are the terms offered (schedule.Limits); staff must
# answer a request within `respond_days`, a borrower an offer within `counter_days`. Authority:
# per role and kind, the largest amount in yuan a role may agree to (None: no limit); "auto" is
# what is approved without anyone (a waiver always needs a person).
DOORSTEP_ARRANGEMENTS = {
    "limits": {
        "max_extension_days": 30,
        "min_months": 3,
        "max_months": 24,
        "max_first_due_days": 30,
        "minimum_share_bps": 1000,
        "minimum_floor_cents": 10_000,
        "hold_days": 30,
        "grace_days": 3,
    },
    "respond_days": 2,
    "counter_days": 7,
    "reminder_days": 3,  # the arrangement's own SMS goes out this many days before a payment
    "evidence_max_bytes": 10 * 1024 * 1024,
    "authority": {
        "auto": {"extension": 2_000, "minimum_payment": 5_000},
        "phone_collector": {
            "extension": 10_000,
            "minimum_payment": 50_000,
            "partial_payment": 20_000,
            "instalment": 20_000,
            "waiver": 500,
        },
        "collections_supervisor": {
            "extension": None,
            "minimum_payment": None,
            "partial_payment": None,
            "instalment": 200_000,
            "waiver": 20_000,
        },
    },
}

# Complaints and disputes (DOMAIN §7): days to answer each kind (a credit-report objection: 20),
# and the largest attachment.
DOORSTEP_COMPLAINTS = {
    "answer_days": {"complaint": 15, "dispute_figure": 20, "dispute_credit": 20},
    "attachment_max_bytes": 10 * 1024 * 1024,
}

# The payment service borrowers pay through on the portal (payments.gateways). The default is the
# sandbox: no money moves, and every page it shows says so.
DOORSTEP_PAYMENT_GATEWAY = os.environ.get(
    "DOORSTEP_PAYMENT_GATEWAY", "doorstep.payments.gateways.SandboxGateway"
)

# The borrower portal's sign-in (portal.signin): one-time codes by SMS, their life and limits.
# A signed-in borrower's session ends after `session_minutes` without use.
DOORSTEP_PORTAL = {
    "code_minutes": 5,
    "attempts": 5,
    "codes_per_hour": 5,
    "client_codes_per_hour": 30,
    "session_minutes": 30,
}

# A claim on a queue item (a call task, a request) lapses after this many minutes without renewal.
DOORSTEP_CLAIM_MINUTES = int(os.environ.get("DOORSTEP_CLAIM_MINUTES", "30"))

# The collection score (docs/scoring.md). Artifacts live under model_dir; bands cut the calibrated
# probability of rolling deeper; visit_uplift is the assumed gain in the probability of recovery
# that a home visit brings, by bucket and band, until champion/challenger outcomes measure it.
DOORSTEP_SCORING = {
    "model_dir": os.environ.get("DOORSTEP_MODEL_DIR", str(VAR_DIR / "models")),
    # The public UCI table (../shared beside the clone on developers' machines and CI).
    "public_data": os.environ.get(
        "DOORSTEP_PUBLIC_DATA",
        str(
            Path(__file__).resolve().parents[2].parent
            / "shared/datasets/uci-credit-default"
            / "UCI_Credit_Card.csv"
        ),
    ),
    "bands": {"low": 0.2, "high": 0.5},
    "threads": int(os.environ.get("DOORSTEP_SCORING_THREADS", "2")),
    # Predict with the trees compiled to machine code (lleaves), cached beside the model file.
    "compiled": os.environ.get("DOORSTEP_SCORING_COMPILED", "1") == "1",
    "visit_uplift": {
        "M1": {"low": 0.01, "medium": 0.02, "high": 0.02},
        "M2": {"low": 0.03, "medium": 0.06, "high": 0.05},
        "M3": {"low": 0.05, "medium": 0.10, "high": 0.08},
        "M4": {"low": 0.06, "medium": 0.12, "high": 0.10},
        "M5": {"low": 0.05, "medium": 0.10, "high": 0.08},
        "M6": {"low": 0.04, "medium": 0.08, "high": 0.06},
        "M6+": {"low": 0.02, "medium": 0.05, "high": 0.04},
    },
}
