from django.db import models


class SignInCode(models.Model):
    """A one-time code asked for on the sign-in page. Rows exist for unknown numbers too (no code
    is sent to them), so that limits and timing say nothing about which numbers are borrowers'.
    The phone and the code are kept only as keyed hashes."""

    phone_hash = models.CharField(max_length=64)
    client = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    known = models.BooleanField()
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["phone_hash", "created_at"], name="signin_phone_at"),
            models.Index(fields=["client", "created_at"], name="signin_client_at"),
        ]

    def __str__(self) -> str:
        return f"code for {self.phone_hash[:8]}… at {self.created_at}"
