"""The one encoder: what converts, what is refused, and where the refusal lands."""

from __future__ import annotations

import datetime
import decimal
import enum
import pathlib
import uuid
from typing import Any

import pytest

from tests.sdk.driver import Driver
from wac import TaskError, step, task, workflow
from wac.sdk import NotJsonSerializableError, run_round
from wac.sdk.jsonvalue import to_json


class Color(enum.Enum):
    RED = "red"


class Foo:
    pass


def test_known_types_are_converted_like_a_replay_would_read_them() -> None:
    value = {
        "tuple": (1, (2, 3)),
        "dt": datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
        "date": datetime.date(2024, 1, 2),
        "time": datetime.time(3, 4),
        "uuid": uuid.UUID(int=1),
        "dec": decimal.Decimal("1.10"),
        "path": pathlib.PurePosixPath("/a/b"),
        "enum": Color.RED,
        1: "int key",
    }
    assert to_json(value, "task 'x'") == {
        "tuple": [1, [2, 3]],
        "dt": "2024-01-02T03:04:05+00:00",
        "date": "2024-01-02",
        "time": "03:04:00",
        "uuid": "00000000-0000-0000-0000-000000000001",
        "dec": "1.10",
        "path": "/a/b",
        "enum": "Color.RED",
        "1": "int key",
    }


@pytest.mark.parametrize("bad", [Foo(), {1, 2}, b"bytes", {"nested": [Foo()]}])
def test_other_objects_are_refused_with_a_type_error_naming_the_subject(bad: Any) -> None:
    with pytest.raises(TypeError, match="task 'fetch' returned a value that is not JSON-serialisable"):
        to_json(bad, "task 'fetch'")


def test_the_refusal_names_the_type() -> None:
    with pytest.raises(NotJsonSerializableError, match="object of type Foo$"):
        to_json([Foo()], "step 's'")


def test_circular_values_are_refused() -> None:
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(NotJsonSerializableError, match="Circular reference"):
        to_json(loop, "step 's'")


def test_a_non_serialisable_step_value_is_a_failure_of_that_step() -> None:
    @workflow
    async def main() -> str:
        try:
            await step("make", lambda: Foo())
        except TaskError as exc:
            return str(exc)
        return "no"

    msg = "step 'make' returned a value that is not JSON-serialisable: object of type Foo"
    assert Driver(run_round, main).finish() == msg


def test_a_non_serialisable_task_value_fails_the_child_and_the_parent_sees_task_error() -> None:
    @task
    async def make() -> Any:
        return Foo()

    @workflow
    async def main() -> Any:
        try:
            await make()
        except TaskError as exc:
            return exc.result["error"]["name"]
        return None

    assert Driver(run_round, main).finish() == "NotJsonSerializableError"


def test_non_serialisable_task_arguments_are_refused_when_dispatched() -> None:
    @task
    async def send(payload: Any) -> None:
        return None

    @workflow
    async def main() -> None:
        await send(Foo())

    with pytest.raises(NotJsonSerializableError, match="task 'send' was called with arguments that are not JSON-serialisable"):
        run_round(main, {"completed_steps": {}}, {})


def test_a_non_serialisable_workflow_result_is_refused() -> None:
    @workflow
    async def main() -> Any:
        return Foo()

    with pytest.raises(NotJsonSerializableError, match="workflow 'main' returned a value"):
        run_round(main, {"completed_steps": {}}, {})
