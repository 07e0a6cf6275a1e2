"""Strategy versions, nightly runs, the decisions they make and the actions those plan."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from doorstep.ledger.models import Account
from doorstep.scoring.models import ScoringModel
from doorstep.strategy.enums import ActionKind, ActionStatus, Engine, RunStatus, Stage


class StrategyVersion(models.Model):
    """One published version of a strategy document; the newest of a name is the active one."""

    name = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    document = models.TextField(help_text=_("the YAML as published"))
    diff = models.TextField(blank=True, default="", help_text=_("unified diff to the previous"))
    author = models.CharField(max_length=150)
    note = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="strategy_name_version"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"

    @property
    def label(self) -> str:
        return f"{self.name}@{self.version}"


class NightlyRun(models.Model):
    as_of = models.DateField()
    engine = models.CharField(max_length=10, choices=Engine.choices)
    strategy = models.ForeignKey(StrategyVersion, on_delete=models.PROTECT, related_name="runs")
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.CharField(max_length=150)
    accounts = models.PositiveIntegerField(default=0)
    actions = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)  # a duration, never money

    class Meta:
        ordering = ["-as_of", "-started_at"]

    def __str__(self) -> str:
        return f"run {self.as_of} {self.engine} {self.status}"


# A reference that every row a night writes shares with the rest of that night (its strategy
# version, its run, its scoring model): the night names an existing row once, so a database check
# of each of a million rows proves nothing more, and cost 3–4 s of a 71 s night on PostgreSQL
# (its deferred checks run one query per row), with one more B-tree written per row besides.
# Nothing looks decisions or actions up by these columns; PROTECT still holds in the ORM (a delete
# of the version, run or model is refused while rows point at it).
BY_CONSTRUCTION = {"db_constraint": False, "db_index": False}


class Decision(models.Model):
    """The stage of one account as of one date, and why (DOMAIN §3–§4). One per account and
    date: a re-run or a real-time re-evaluation replaces it."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="decisions", db_index=False
    )
    as_of = models.DateField()
    stage = models.CharField(max_length=12, choices=Stage.choices)
    previous_stage = models.CharField(max_length=12, choices=Stage.choices)
    triggers = models.TextField(
        null=True, blank=True, help_text=_("matched rule ids, comma-separated")
    )
    blocked_by = models.TextField(
        null=True, blank=True, help_text=_("failed gate ids, comma-separated")
    )
    reasons_en = models.TextField()
    reasons_zh = models.TextField()
    arm = models.CharField(max_length=32)
    dpd = models.IntegerField()
    overdue_cents = models.BigIntegerField()
    outstanding_cents = models.BigIntegerField()
    # The version, run and model every decision of a night shares: no database constraint or
    # index (`BY_CONSTRUCTION`). The account keeps both.
    strategy = models.ForeignKey(
        StrategyVersion, on_delete=models.PROTECT, related_name="+", **BY_CONSTRUCTION
    )
    run = models.ForeignKey(
        NightlyRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        **BY_CONSTRUCTION,
    )
    engine = models.CharField(max_length=10, choices=Engine.choices)
    # The collection score in force when the decision was made (NULL: none was active), and the
    # account's score and band when it was in collections (docs/scoring.md). A probability
    # rounded to 6 places, never money.
    model = models.ForeignKey(
        ScoringModel,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        **BY_CONSTRUCTION,
    )
    risk_score = models.FloatField(null=True, blank=True)
    risk_band = models.CharField(max_length=8, null=True, blank=True)

    class Meta:
        ordering = ["account_id", "-as_of"]
        constraints = [
            models.UniqueConstraint(fields=["account", "as_of"], name="decision_account_as_of"),
        ]
        indexes = [models.Index(fields=["as_of", "stage"], name="decision_as_of_stage")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of} {self.stage}"

    @property
    def trigger_list(self) -> list[str]:
        return self.triggers.split(",") if self.triggers else []

    @property
    def blocked_list(self) -> list[str]:
        return self.blocked_by.split(",") if self.blocked_by else []


class PlannedAction(models.Model):
    """A contact, call task, visit proposal or placement the strategy planned for a day. Later
    issues send them through the compliance guard; here they are planned and cancelled."""

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="planned_actions", db_index=False
    )
    as_of = models.DateField()
    stage = models.CharField(max_length=12, choices=Stage.choices)
    kind = models.CharField(max_length=16, choices=ActionKind.choices)
    channel = models.CharField(max_length=8)
    template = models.CharField(max_length=64)
    status = models.CharField(
        max_length=10, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    cancelled_reason = models.CharField(max_length=200, blank=True, default="")
    # The guard's rule that refused it at planning time (compliance.screen); sending asks again.
    refused_rule = models.CharField(max_length=64, blank=True, default="", db_default="")
    run = models.ForeignKey(
        NightlyRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        **BY_CONSTRUCTION,
    )
    # The call queue's order, from the planning decision's figures (engine.actions.priority_of):
    # stored so that the queue reads a page off an index, not every task joined to its decision.
    priority = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["account_id", "as_of"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "as_of", "kind", "channel", "template"], name="action_unique"
            ),
            models.CheckConstraint(
                condition=Q(status__in=ActionStatus.values), name="action_status_valid"
            ),
        ]
        indexes = [
            models.Index(
                fields=["status", "account"],
                name="action_pending",
                condition=Q(status=ActionStatus.PLANNED),
            ),
            models.Index(fields=["as_of"], name="action_as_of"),
            # The call queue: every open call task by priority; as_of is only checked (a night
            # run ahead of today), and here a count need not read the table.
            models.Index(
                fields=["-priority", "account", "as_of"],
                name="call_queue_order",
                condition=Q(kind=ActionKind.CALL_TASK, status=ActionStatus.PLANNED),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.as_of} {self.kind}/{self.channel}"
