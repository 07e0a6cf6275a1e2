from django.db import models


class Claim(models.Model):
    """Someone is working an item of a queue (a call task, a proposal, a request, a case). One
    claim per item, enforced by the database, so two people cannot both take it; a claim lapses
    after DOORSTEP_CLAIM_MINUTES so that work left open returns to the queue."""

    kind = models.CharField(max_length=24)
    item = models.CharField(max_length=64)
    claimed_by = models.CharField(max_length=150)
    claimed_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "item"], name="one_claim_per_item")]
        indexes = [models.Index(fields=["claimed_by"], name="claim_by")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.item} by {self.claimed_by}"
