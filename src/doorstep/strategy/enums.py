"""Choices of the strategy app. Imports nothing local."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Stage(models.TextChoices):
    NONE = "none", _("None")
    PRE_DUE = "pre_due", _("Pre-due")
    REMINDER = "reminder", _("Reminder")
    PHONE = "phone", _("Phone")
    HOME_VISIT = "home_visit", _("Home visit")
    LEGAL = "legal", _("Legal / external")
    SUSPENDED = "suspended", _("Suspended")
    ARRANGEMENT = "arrangement", _("Arrangement")


class Engine(models.TextChoices):
    DUCKDB = "duckdb", _("DuckDB on a columnar snapshot")
    POSTGRES = "postgres", _("PostgreSQL in place")
    SPARK = "spark", _("Spark on a Parquet snapshot")
    REALTIME = "realtime", _("Real-time, one account")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    ABANDONED = "abandoned", _("Abandoned")


class ActionKind(models.TextChoices):
    MESSAGE = "message", _("Message")
    CALL_TASK = "call_task", _("Call task")
    VISIT_PROPOSAL = "visit_proposal", _("Visit proposal")
    PLACEMENT = "placement", _("Placement")


# Messages that tell the borrower a decision on their arrangement request (strategy/sending.py).
# The nightly run never plans them, so re-running a night leaves them planned.
DECISION_NOTICES = ("arrangement_approved", "arrangement_offer", "arrangement_refused")


class ActionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REFUSED = "refused", _("Refused by the compliance guard")
    CANCELLED = "cancelled", _("Cancelled")
    DONE = "done", _("Done")
