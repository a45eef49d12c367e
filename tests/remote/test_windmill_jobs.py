"""Jobs on a Windmill workspace: runs, previews, status mapping, lists, cancel, approvals, logs."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.remote.fakewindmill import FakeWindmill
from wac.engine.backend import NewScript, ScriptModule
from wac.engine.bundle import MANIFEST, Bundle
from wac.engine.remote.windmill import WindmillBackend
from wac.engine.store.base import Job
from wac.errors import JobNotFoundError, NotDeployedError, RejectedError

WF = "f/demo/wf"


@pytest.fixture
def deployed(backend: WindmillBackend) -> str:
    return backend.deploy(NewScript(path=WF, content="def main(**kw):\n    return kw\n")).hash


def follow(backend: WindmillBackend, job_id: str, until: frozenset[str] = frozenset({"succeeded", "failed", "cancelled"})) -> Job:
    for _ in range(20):
        job = backend.get_job(job_id)
        if job.status in until:
            return job
    raise AssertionError(f"job {job_id} stayed {job.status}")


def bundle(main: str, modules: dict[str, str], *, folder: bool = False) -> Bundle:
    mod = f"{WF}__mod"
    entry = f"{mod}/script.py" if folder else f"{WF}.py"
    files = {entry: main, **{f"{mod}/{k}": v for k, v in modules.items()},
             "f/shared/utils.py": "def u():\n    return 1\n",
             MANIFEST: json.dumps({"entry": entry, "module_dir": mod}, sort_keys=True)}
    return Bundle(files=files, entry=entry)


def test_a_run_is_followed_to_its_result(backend: WindmillBackend, wm: FakeWindmill, deployed: str) -> None:
    job_id = backend.run_script(WF, {"x": 3})

    first = backend.get_job(job_id)
    done = follow(backend, job_id)

    assert wm.calls("runScriptByPath")[0].path == "/api/w/test/jobs/run/p/f/demo/wf"
    assert wm.calls("runScriptByPath")[0].json() == {"x": 3}
    assert first.status == "running" and first.finished_at is None and first.started_at is not None
    assert done.status == "succeeded" and done.result == {"path": WF, "args": {"x": 3}} and done.error is None
    assert done.id == job_id and done.root_id == job_id and done.parent_id is None
    assert done.script_path == WF and done.entry == WF and done.bundle_hash == deployed and done.name == "wf"
    assert done.args == {"x": 3} and done.rounds == 1 and not done.preview
    assert done.created_at <= done.started_at <= done.finished_at  # type: ignore[operator]
    assert backend.runs_workers is False and backend.start_workers(object()) is None


def test_a_run_of_an_undeployed_path_is_not_deployed(backend: WindmillBackend) -> None:
    with pytest.raises(NotDeployedError, match="f/demo/missing is not deployed in workspace 'prod'"):
        backend.run_script("f/demo/missing", {})


def test_a_failed_job_carries_the_error(backend: WindmillBackend, deployed: str) -> None:
    job = follow(backend, backend.run_script(WF, {"fail": "boom"}))

    assert job.status == "failed" and job.result is None
    assert job.error is not None and job.error["name"] == "ValueError" and job.error["message"] == "boom"
    assert "Traceback" in job.error["stack"]


def test_a_preview_sends_the_bundle_main_file_and_its_modules(backend: WindmillBackend, wm: FakeWindmill) -> None:
    b = bundle("def main(x):\n    return x\n", {"extract.py": "E = 1\n", "lib/util.py": "U = 2\n", "extract.lock": "x"},
               folder=True)

    job = follow(backend, backend.run_preview(b, WF, {"x": 1}))

    body = wm.calls("runScriptPreview")[0].json()
    assert body == {"content": "def main(x):\n    return x\n", "path": WF, "args": {"x": 1}, "language": "python3",
                    "modules": {"extract.py": {"content": "E = 1\n", "language": "python3"},
                                "lib/util.py": {"content": "U = 2\n", "language": "python3"}}}
    assert job.preview and job.status == "succeeded" and job.result["modules"] == ["extract.py", "lib/util.py"]


def test_a_preview_without_modules_sends_none(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.run_preview(bundle("def main():\n    return 1\n", {}), WF, {})
    assert "modules" not in wm.calls("runScriptPreview")[0].json()


def test_cancel_stops_a_queued_job_once(backend: WindmillBackend, wm: FakeWindmill, deployed: str) -> None:
    job_id = backend.run_script(WF, {})

    assert backend.cancel(job_id, "not needed") == 1
    job = backend.get_job(job_id)
    assert backend.cancel(job_id, "again") == 0

    assert wm.calls("cancelQueuedJob")[0].json() == {"reason": "not needed"}
    assert job.status == "cancelled" and job.error is not None and "not needed" in job.error["message"]
    with pytest.raises(JobNotFoundError):
        backend.cancel("01900000-0000-7000-8000-00000000dead", "x")


def test_approving_a_suspended_job_resumes_it_with_the_value(backend: WindmillBackend, wm: FakeWindmill,
                                                              deployed: str) -> None:
    job_id = backend.run_script(WF, {"approval": True})
    assert follow(backend, job_id, frozenset({"suspended"})).status == "suspended"

    backend.resume(job_id, "approval", None, True, {"comment": "ok"}, "alice")

    assert wm.calls("resumeSuspended")[0].path == f"/api/w/test/jobs_u/flow/resume_suspended/{job_id}"
    assert wm.calls("resumeSuspended")[0].json() == {"payload": {"comment": "ok"}, "approved": True}
    job = follow(backend, job_id)
    assert job.status == "succeeded" and job.result["approval"]["payload"] == {"comment": "ok"}


def test_rejecting_a_suspended_job_cancels_it(backend: WindmillBackend, wm: FakeWindmill, deployed: str) -> None:
    job_id = backend.run_script(WF, {"approval": True})
    follow(backend, job_id, frozenset({"suspended"}))

    backend.resume(job_id, None, "approval-tok", False, None, None)

    assert wm.calls("resumeSuspended")[0].json() == {"payload": None, "approved": False,
                                                      "approval_token": "approval-tok"}
    assert backend.get_job(job_id).status == "cancelled"


def test_resuming_a_job_that_is_not_suspended_is_rejected(backend: WindmillBackend, deployed: str) -> None:
    job_id = backend.run_script(WF, {})
    with pytest.raises(RejectedError, match="is not suspended") as info:
        backend.resume(job_id, None, None, True, None, None)
    assert info.value.exit_code == 4


def test_logs_are_the_servers_text(backend: WindmillBackend, deployed: str) -> None:
    job_id = backend.run_script(WF, {})
    follow(backend, job_id)
    assert backend.logs(job_id) == f"running {WF}\ndone\n"
    with pytest.raises(JobNotFoundError):
        backend.logs("01900000-0000-7000-8000-00000000dead")


def test_an_unknown_job_is_not_found(backend: WindmillBackend) -> None:
    with pytest.raises(JobNotFoundError, match="no job 01900000-0000-7000-8000-00000000dead in workspace 'prod'"):
        backend.get_job("01900000-0000-7000-8000-00000000dead")


def test_list_jobs_is_newest_first_and_filters(backend: WindmillBackend, wm: FakeWindmill, deployed: str) -> None:
    a = backend.run_script(WF, {"n": 1})
    b = backend.run_script(WF, {"n": 2, "fail": "x"})
    follow(backend, a)
    follow(backend, b)
    c = backend.run_script(WF, {"n": 3})
    child = httpx.post(f"{wm.url}/api/w/test/jobs/run/p/{WF}", params={"parent_job": c}, json={"n": 4},
                       headers={"Authorization": f"Bearer {wm.token}"}).text

    assert [j.id for j in backend.list_jobs()] == [c, b, a]
    assert [j.id for j in backend.list_jobs(root_only=False)] == [child, c, b, a]
    assert [j.id for j in backend.list_jobs(status="failed")] == [b]
    assert [j.id for j in backend.list_jobs(status="queued")] == [c]
    assert [j.id for j in backend.list_jobs(limit=2)] == [c, b]
    kids = backend.children(c)
    assert [j.id for j in kids] == [child] and kids[0].parent_id == c and kids[0].root_id == c
    assert all(r.query.get("order_desc") == ["true"] for r in wm.calls("listQueue"))


def test_the_timeline_comes_from_the_workflow_status(backend: WindmillBackend, deployed: str) -> None:
    job_id = backend.run_script(WF, {"tasks": ["fetch", "store"]})
    follow(backend, job_id)

    entries = backend.timeline(job_id)

    assert sorted(e.key for e in entries) == ["fetch", "store"]
    assert all(e.status == "done" and e.finished_at is not None for e in entries)


def test_a_job_without_workflow_status_has_an_empty_timeline(backend: WindmillBackend, deployed: str) -> None:
    assert backend.timeline(backend.run_script(WF, {})) == []


def test_waiting_for_a_change_is_one_short_poll(backend: WindmillBackend) -> None:
    assert backend.change_token() is None
    start = time.monotonic()
    backend.wait_for_change("any", 0.05, None)
    assert 0.04 <= time.monotonic() - start < 0.2
    start = time.monotonic()
    backend.wait_for_change("any", 30, None)
    assert time.monotonic() - start < 1.0
    assert abs(backend.now() - time.time()) < 1


def test_a_module_lock_is_sent_only_when_recorded(backend: WindmillBackend, wm: FakeWindmill) -> None:
    backend.deploy(NewScript(path=WF, content="x = 1\n", modules={"a.py": ScriptModule("A\n", lock="L\n"),
                                                                   "b.py": ScriptModule("B\n")}))
    assert wm.calls("createScript")[0].json()["modules"] == {
        "a.py": {"content": "A\n", "language": "python3", "lock": "L\n"},
        "b.py": {"content": "B\n", "language": "python3"}}
