"""doorstep db_worker [--worker-id ID] [--queue-name Q] [--batch] ...: django-tasks-db's worker
(every option of the package's), which first puts back to the queue the jobs its own previous
process left running when it died (doorstep.web.worker). Give each worker a stable id of its own
(its systemd unit's name); without one the id is random, as in the package, and nothing is
recovered."""

from django.utils.crypto import get_random_string
from django_tasks_db.management.commands import db_worker

from doorstep.web.worker import requeue_abandoned


class Command(db_worker.Command):
    help = (
        "Run the background worker (django-tasks-db). With a stable --worker-id, first put back "
        "to the queue the jobs this worker's previous process left running when it died."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)

    def handle(self, *, worker_id, backend_name, **options):
        if worker_id is None:
            worker_id = get_random_string(32)
        else:
            counts = requeue_abandoned(worker_id, backend=backend_name)
            if any(counts.values()):
                self.stdout.write(
                    f"worker {worker_id}: {counts['requeued']} job(s) its previous process left "
                    f"running put back to the queue, {counts['failed']} failed after "
                    "too many tries"
                )
        super().handle(worker_id=worker_id, backend_name=backend_name, **options)
