"""A durable workflow.

Preview it on the embedded engine (nothing is deployed):

    wac script preview <path> -d '{"order_id": 7}'

Each @task call runs as a job of its own and its result is recorded. After each one the workflow
body is replayed from the top with the results so far, so the body must be deterministic: put
clocks, random values and I/O in step(), which runs once and replays its recorded value.
"""

from datetime import datetime, timezone

from wac import step, task, workflow


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat()


@task
async def fetch_order(order_id: int) -> dict[str, object]:
    # a task may do I/O: call your API or database here
    return {"id": order_id, "items": ["book", "pen"], "total": 23.5}


@task
async def send_receipt(order_id: int, total: float) -> str:
    return f"receipt for order {order_id}: {total:.2f}"


@workflow
async def main(order_id: int = 1) -> dict[str, object]:
    received_at = await step("received_at", utc_now)
    order = await fetch_order(order_id)
    receipt = await send_receipt(order_id, order["total"])
    return {"received_at": received_at, "order": order, "receipt": receipt}
