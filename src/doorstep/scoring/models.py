"""The model registry: every trained collection score, its artifact and figures; one is active."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ScoringModel(models.Model):
    """One trained score. The booster lives in `artifact` (a LightGBM text file under
    DOORSTEP_SCORING["model_dir"], checked against `sha256` when loaded); the rest is here."""

    version = models.CharField(max_length=64, unique=True)
    data = models.CharField(max_length=32, help_text=_("public-taiwan or ledger"))
    data_sha256 = models.CharField(max_length=64, blank=True, default="")
    features = models.JSONField(help_text=_("feature names, in the booster's order"))
    parameters = models.JSONField()
    calibration = models.JSONField(help_text=_("Platt scaling: a, b"))
    metrics = models.JSONField(default=dict, blank=True)
    artifact = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    created_by = models.CharField(max_length=150)
    created_at = models.DateTimeField()
    active = models.BooleanField(default=False)
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="scoring_one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return self.version
