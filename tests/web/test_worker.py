"""`doorstep db_worker --worker-id ID`: the jobs its previous process left running when it died
go back to the queue (and run), those of other workers are left alone, and a job whose worker
died too often is failed rather than run again."""

import pytest
from django_tasks_db.models import DBTaskResult

from doorstep.contact import tasks
from doorstep.web.worker import MAX_CLAIMS


def claimed(worker_ids: list[str]) -> DBTaskResult:
    """A drain job as a worker leaves it when it is killed while running it."""
    job = DBTaskResult.objects.get(pk=tasks.drain_outbox.enqueue().id)
    for worker in worker_ids:
        job.claim(worker)
    return job


@pytest.mark.django_db(transaction=True)
def test_a_restarted_worker_runs_again_what_it_died_in_and_only_that(run_worker):
    mine = claimed(["w1"])
    theirs = claimed(["w2"])
    once_mine_now_theirs = claimed(["w1", "w2"])
    too_often = claimed(["w1"] * MAX_CLAIMS)

    run_worker("w1")

    status = dict(DBTaskResult.objects.values_list("id", "status"))
    assert status == {mine.pk: "SUCCESSFUL", theirs.pk: "RUNNING",
                      once_mine_now_theirs.pk: "RUNNING", too_often.pk: "FAILED"}  # fmt: skip
    mine.refresh_from_db()
    too_often.refresh_from_db()
    assert mine.worker_ids == ["w1", "w1"]
    assert too_often.exception_class_path == "doorstep.web.worker.WorkerDied"
    assert f"died running it, {MAX_CLAIMS} times" in too_often.traceback


@pytest.mark.django_db(transaction=True)
def test_a_worker_without_an_id_recovers_nothing(run_worker):
    job = claimed(["w1"])
    run_worker(None)
    job.refresh_from_db()
    assert job.status == "RUNNING"
