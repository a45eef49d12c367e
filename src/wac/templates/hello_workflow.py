"""Hello, workflow: a small durable workflow to start from.

Preview it on the embedded engine (nothing is deployed):

    wac script preview f/examples/hello_workflow.py
    wac script preview f/examples/hello_workflow.py -d '{"names": ["Ada", "Alan"]}'

Each @task call runs as a job of its own and its result is recorded. After each one the workflow
body is replayed from the top with the results so far, so the body must be deterministic: put
clocks, random values and I/O in step(), which runs once and replays its recorded value.
"""

from datetime import datetime, timezone

from wac import parallel, step, task, workflow


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat()


@task
async def greet(name: str) -> str:
    return f"Hello, {name}!"


@task
async def count_letters(greetings: list[str]) -> int:
    return sum(ch.isalpha() for text in greetings for ch in text)


@workflow
async def main(names: list[str] = ["Ada", "Grace", "Linus"]) -> dict[str, object]:
    started_at = await step("started_at", utc_now)  # recorded once, replayed after
    greetings = await parallel(names, greet)  # one job per name, all at once
    letters = await count_letters(greetings)  # runs when every greeting is done
    return {"started_at": started_at, "greetings": greetings, "letters": letters}
