"""core.workqueue: claiming background work with a lease, attempts, backoff, recovery.

Import jobs serve as the rows; any WorkItem table behaves the same.
"""

from datetime import UTC, datetime, timedelta

import pytest

from leadflow.core import clock, workqueue
from leadflow.imports.models import ImportJob

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)
QUEUED = ImportJob.Status.QUEUED


@pytest.fixture(autouse=True)
def _frozen_time():
    with clock.travel(T0):
        yield


def jobs(n: int, due: datetime = T0) -> list[int]:
    return [ImportJob.objects.create(original_name=f"{i}.csv", created_at=T0, status=QUEUED,
                                     due_at=due).pk for i in range(n)]


def claim(limit: int = 10, **also) -> workqueue.Claim:
    return workqueue.claim(ImportJob.objects.filter(status=QUEUED), limit=limit, lease=LEASE,
                           **also)


def test_a_claimed_row_is_hidden_from_other_claimers_until_its_lease_runs_out():
    ids = jobs(2)
    first = claim(status=ImportJob.Status.QUEUED)

    assert sorted(first.ids) == sorted(ids)
    assert not claim()
    clock.advance(LEASE - timedelta(seconds=1))
    assert not claim()


def test_an_expired_lease_makes_the_row_claimable_again_and_the_dead_claim_loses_it():
    [pk] = jobs(1)
    dead = claim()
    clock.advance(LEASE + timedelta(seconds=1))

    second = claim()

    assert second.ids == [pk]
    assert workqueue.done(dead, pk, status=ImportJob.Status.DONE) == 0
    assert workqueue.done(second, pk, status=ImportJob.Status.DONE) == 1
    assert ImportJob.objects.get(pk=pk).status == ImportJob.Status.DONE


def test_renewing_keeps_the_row_hidden_past_its_first_lease():
    [pk] = jobs(1)
    held = claim()
    clock.advance(LEASE * 0.9)

    assert workqueue.renew(held) == set()
    clock.advance(LEASE * 0.9)

    assert not claim()
    assert held.ids == [pk]


def test_each_renews_the_lease_while_a_slow_batch_goes():
    jobs(3)
    held = claim()
    seen_by_others = []
    for _ in workqueue.each(held):
        clock.advance(LEASE * 0.6)  # each item takes most of a lease
        seen_by_others += claim().ids

    assert seen_by_others == []


def test_each_skips_rows_another_worker_took_over():
    first, second = jobs(2)
    slow = claim()
    clock.advance(LEASE + timedelta(seconds=1))
    other = claim(limit=1)  # the slow worker was presumed dead: its oldest row moves on

    assert list(workqueue.each(slow)) == [second]
    assert other.ids == [first]


def test_every_claim_counts_an_attempt_even_when_the_worker_dies():
    [pk] = jobs(1)
    for expected in (1, 2, 3):
        assert claim().attempts == {pk: expected}
        clock.advance(LEASE + timedelta(seconds=1))  # the worker died
    assert ImportJob.objects.get(pk=pk).attempts == 3


def test_a_failed_attempt_is_retried_after_a_growing_backoff():
    [pk] = jobs(1)
    waits = []
    for _ in range(2):
        held = claim()
        assert workqueue.retry(held, pk, "smtp down", final={}) is False
        due = ImportJob.objects.get(pk=pk).due_at
        waits.append(due - clock.now())
        clock.advance(due - clock.now() - timedelta(seconds=1))
        assert not claim()
        clock.advance(timedelta(seconds=1))

    assert waits == [workqueue.BACKOFF_BASE, workqueue.BACKOFF_BASE * 2]
    assert ImportJob.objects.get(pk=pk).message == "smtp down"


def test_the_backoff_is_capped():
    assert workqueue.backoff(40) == workqueue.BACKOFF_MAX


def test_after_the_last_attempt_the_row_takes_its_final_values_and_is_no_longer_due():
    [pk] = jobs(1)
    results = []
    for _ in range(ImportJob.max_attempts):
        held = claim()
        results.append(workqueue.retry(held, pk, "broken", final={
            "status": ImportJob.Status.FAILED}))
        clock.advance(workqueue.BACKOFF_MAX)

    job = ImportJob.objects.get(pk=pk)
    assert results == [False] * (ImportJob.max_attempts - 1) + [True]
    assert (job.status, job.due_at, job.claimed_by, job.message) == (
        ImportJob.Status.FAILED, None, "", "broken")


def test_a_retry_by_a_claim_that_lost_the_row_changes_nothing():
    [pk] = jobs(1)
    dead = claim()
    clock.advance(LEASE + timedelta(seconds=1))
    alive = claim()

    assert workqueue.retry(dead, pk, "late", final={}) is None
    assert ImportJob.objects.get(pk=pk).claimed_by == alive.token


def test_claim_takes_the_oldest_due_rows_first_up_to_its_limit():
    later = jobs(1, due=T0 - timedelta(minutes=1))
    older = jobs(1, due=T0 - timedelta(minutes=2))
    jobs(1, due=T0 + timedelta(minutes=1))  # not due yet

    assert claim(limit=1).ids == older
    assert claim(limit=5).ids == later


def test_reset_makes_a_failed_row_due_now_with_a_fresh_attempt_count():
    [pk] = jobs(1)
    ImportJob.objects.filter(pk=pk).update(status=ImportJob.Status.FAILED, attempts=3,
                                           due_at=None, message="gave up")

    assert workqueue.reset(ImportJob.objects.filter(pk=pk), status=QUEUED) == 1

    job = ImportJob.objects.get(pk=pk)
    assert (job.status, job.attempts, job.due_at, job.message) == (QUEUED, 0, T0, "")


def test_a_row_whose_worker_died_on_its_last_attempt_is_given_up_not_handed_out_again():
    [spent] = jobs(1, due=T0 - timedelta(minutes=1))
    for _ in range(ImportJob.max_attempts):
        assert claim().ids == [spent]
        clock.advance(LEASE + timedelta(seconds=1))  # the worker died
    [other] = jobs(1, due=clock.now())  # due after the spent row
    given_up = []

    held = claim(limit=1, exhausted=lambda gone: given_up.append(gone.ids))

    assert (held.ids, given_up) == ([other], [[spent]])
    job = ImportJob.objects.get(pk=spent)
    assert (job.attempts, job.due_at, job.claimed_by) == (ImportJob.max_attempts, None, "")
    assert not claim(exhausted=lambda gone: given_up.append(gone.ids))
    assert given_up == [[spent]]
