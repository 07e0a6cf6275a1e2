"""The background worker's own housekeeping (docs/operations.md).

A worker killed in the middle of a job (SIGKILL, the OOM killer, a power cut) leaves the job's row
`RUNNING` for ever: django-tasks-db cannot tell a dead worker from a slow one. A worker with a
stable id can: ids are unique across the pool (the package's rule), so when a worker starts, no
earlier process of its id is alive, and whatever that id left running died with it. Those jobs go
back to the queue — every doorstep job is safe to run again (a trigger over state: the outbox's
rows, the nightly run's date) — unless they have been claimed MAX_CLAIMS times already, which
smells of a job that kills its worker: then they are failed, for a person to look at.
"""

import logging

from django.db import transaction
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

MAX_CLAIMS = 3

log = logging.getLogger(__name__)


class WorkerDied(Exception):
    """The worker running the job died (it was found running under the id of a worker that
    started again)."""


def requeue_abandoned(worker_id: str, *, backend: str) -> dict[str, int]:
    """Put the jobs the previous process of `worker_id` left running back to ready, or fail them
    after MAX_CLAIMS claims. Each in one transaction, on a conditional update. Returns counts."""
    counts = {"requeued": 0, "failed": 0}
    running = DBTaskResult.objects.running().filter(backend_name=backend).order_by("enqueued_at")
    for job_id, worker_ids in running.values_list("id", "worker_ids"):
        if not worker_ids or worker_ids[-1] != worker_id:
            continue
        with transaction.atomic():
            job = (
                DBTaskResult.objects.select_for_update()
                .filter(pk=job_id, status=TaskResultStatus.RUNNING)
                .first()
            )
            if job is None:
                continue
            if len(job.worker_ids) >= MAX_CLAIMS:
                job.set_failed(
                    WorkerDied(f"worker {worker_id} died running it, {len(job.worker_ids)} times")
                )
                counts["failed"] += 1
                log.warning("job %s (%s) failed: its worker died %d times",
                            job.pk, job.task_path, len(job.worker_ids))  # fmt: skip
                continue
            DBTaskResult.objects.filter(pk=job.pk, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY
            )
            counts["requeued"] += 1
            log.warning("job %s (%s) back to the queue: worker %s died running it",
                        job.pk, job.task_path, worker_id)  # fmt: skip
    return counts
