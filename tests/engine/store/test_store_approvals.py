"""Contract: suspend / resume / approval timeout."""

from __future__ import annotations

import pytest

from tests.engine.store.conftest import FakeClock, claim_job, spec
from wac.engine.store import ANY_TAG, Store
from wac.errors import ConflictError


def _suspended(store: Store, clock: FakeClock, timeout: float | None = 60) -> str:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    deadline = None if timeout is None else clock.t + timeout
    store.add_approval_tokens(c.token, "approval", [("hash-1", "page")], None)
    store.suspend(c.token, "approval", deadline, "hash-1", {"form": {"x": 1}}, logs="waiting\n")
    return job_id


def test_suspend_parks_the_job_on_its_approval_key(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock)
    job = store.get_job(job_id)
    assert (job.status, job.suspended_key) == ("suspended", "approval")
    (step,) = store.get_steps(job_id)
    assert (step.kind, step.done) == ("approval", False)
    assert store.claim("w", ANY_TAG, 10) is None
    assert store.next_due(ANY_TAG) == clock.t + 60


def test_resume_with_the_right_token_writes_the_decision_and_requeues(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock)
    store.resume(job_id, "approval", "hash-1", True, {"note": "ok"}, "alice")
    c = claim_job(store, job_id)
    assert c.checkpoint()["completed_steps"] == {
        "approval": {"value": {"note": "ok"}, "approver": "alice", "approved": True}
    }
    assert c.job.suspended_key is None


def test_resume_through_the_local_admin_path_needs_no_token(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock)
    store.resume(job_id, None, None, False, None, "cli")
    assert store.get_steps(job_id)[0].value == {"value": None, "approver": "cli", "approved": False}
    assert store.get_job(job_id).status == "queued"


@pytest.mark.parametrize(
    ("key", "secret"), [("approval", "wrong-hash"), ("other_key", "hash-1"), ("other_key", None)]
)
def test_resume_with_a_bad_token_or_key_is_a_conflict_that_changes_nothing(
    store: Store, clock: FakeClock, key: str, secret: str | None
) -> None:
    job_id = _suspended(store, clock)
    before = (store.get_job(job_id), store.get_steps(job_id))
    with pytest.raises(ConflictError) as info:
        store.resume(job_id, key, secret, True, None, "mallory")
    assert info.value.hint
    assert (store.get_job(job_id), store.get_steps(job_id)) == before


def test_resuming_twice_is_a_conflict_and_keeps_the_first_decision(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock)
    store.resume(job_id, "approval", "hash-1", True, 1, "a")
    with pytest.raises(ConflictError):
        store.resume(job_id, "approval", "hash-1", False, 2, "b")
    assert store.get_steps(job_id)[0].value["approver"] == "a"


def test_resuming_a_job_that_is_not_suspended_is_a_conflict(store: Store) -> None:
    job_id = store.submit(spec())
    with pytest.raises(ConflictError):
        store.resume(job_id, None, None, True, None, None)


def test_an_approval_that_times_out_gets_a_failure_marker_and_the_job_runs_again(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock, timeout=60)
    clock.advance(59)
    assert store.reap() == 0
    clock.advance(1)
    assert store.reap() == 1
    (step,) = store.get_steps(job_id)
    assert step.done and step.failed
    assert step.value["__wmill_error"] is True
    assert step.value["message"] == "approval 'approval' timed out after 60s"
    assert step.value["step_key"] == "approval"
    assert store.get_job(job_id).status == "queued"
    with pytest.raises(ConflictError):  # too late to approve
        store.resume(job_id, "approval", None, True, None, None)


def test_an_approval_without_timeout_never_comes_due(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock, timeout=None)
    clock.advance(10**6)
    assert store.reap() == 0 and store.next_due(ANY_TAG) is None
    assert store.get_job(job_id).status == "suspended"


def test_cancelling_a_suspended_job_retires_its_approval(store: Store, clock: FakeClock) -> None:
    job_id = _suspended(store, clock, timeout=5)
    store.cancel(job_id, "user")
    clock.advance(10)
    assert store.reap() == 0 and store.next_due(ANY_TAG) is None
    assert store.get_job(job_id).status == "cancelled"


def _with_links(store: Store, form: dict | None = None, approver: str | None = None) -> str:
    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    store.add_approval_tokens(c.token, "approval", [("h-page", "page"), ("h-resume", "resume"),
                                                    ("h-cancel", "cancel")], approver)
    store.suspend(c.token, "approval", None, "", {"form": form} if form else None)
    return job_id


@pytest.mark.parametrize(("secret", "approved"), [("h-cancel", True), ("h-resume", False)])
def test_a_cancel_secret_never_approves_and_a_resume_secret_never_rejects(
    store: Store, secret: str, approved: bool
) -> None:
    job_id = _with_links(store)
    before = (store.get_job(job_id), store.get_steps(job_id))
    with pytest.raises(ConflictError) as info:
        store.resume(job_id, "approval", secret, approved, None, None)
    assert "link" in info.value.message
    assert (store.get_job(job_id), store.get_steps(job_id)) == before


def test_the_page_secret_may_reject(store: Store) -> None:
    job_id = _with_links(store)
    store.resume(job_id, "approval", "h-page", False, None, "eve")
    assert store.get_steps(job_id)[0].value == {"value": None, "approver": "eve", "approved": False}


def test_an_approver_bound_to_a_link_cannot_be_swapped_and_is_recorded(store: Store) -> None:
    job_id = _with_links(store, approver="alice")
    assert store.check_approval_secret(job_id, "approval", "h-resume") == ("resume", "alice")
    with pytest.raises(ConflictError) as info:
        store.resume(job_id, "approval", "h-resume", True, None, "alic0")
    assert "alice" in info.value.message
    assert store.get_job(job_id).status == "suspended"
    store.resume(job_id, "approval", "h-resume", True, None, None)
    assert store.get_steps(job_id)[0].value["approver"] == "alice"


def test_an_approving_value_must_fit_the_form_and_a_misfit_changes_nothing(store: Store) -> None:
    from wac.errors import ArgsError

    form = {"type": "object", "properties": {"amount": {"type": "integer", "maximum": 100},
                                             "tier": {"type": "string", "enum": ["a", "b"]}},
            "required": ["amount"]}
    job_id = _with_links(store, form=form)
    for bad in (None, {}, {"amount": "7"}, {"amount": 101}, {"amount": 1, "tier": "c"}):
        with pytest.raises(ArgsError):
            store.resume(job_id, "approval", "h-page", True, bad, None)
        assert store.get_job(job_id).status == "suspended"
    store.resume(job_id, "approval", "h-page", True, {"amount": 5, "tier": "b"}, None)
    assert store.get_job(job_id).status == "queued"


def test_a_rejection_needs_no_form_value(store: Store) -> None:
    job_id = _with_links(store, form={"properties": {"x": {"type": "string"}}, "required": ["x"]})
    store.resume(job_id, "approval", "h-cancel", False, None, None)
    assert store.get_job(job_id).status == "queued"


def test_tokens_are_kept_only_for_the_round_that_holds_the_claim(store: Store) -> None:
    from wac.engine.store.base import Token
    from wac.errors import LostClaimError

    job_id = store.submit(spec())
    c = claim_job(store, job_id)
    with pytest.raises(LostClaimError):
        store.add_approval_tokens(Token(job_id, c.token.attempt, "someone-else"), "approval", [("h", "page")], None)
