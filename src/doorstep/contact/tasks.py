"""The outbox's background job (Django's tasks API through django-tasks; run by `doorstep
db_worker`, docs/operations.md). A job is a trigger, not a carrier: the messages are rows of the
outbox, so a job lost with its worker loses nothing, and running it twice sends nothing twice."""

from django.utils import timezone
from django_tasks import task

from doorstep.contact import domain


@task()
def drain_outbox(limit: int = 1000) -> dict[str, int]:
    """Hand queued messages to the providers; ask again about the ones stuck while being sent."""
    return domain.drain_outbox(limit=limit, now=timezone.now())
