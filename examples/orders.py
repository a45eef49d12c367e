"""Example workflow: fetch orders in parallel, price each one, and total them up.

Preview it on the embedded engine (no server, nothing to set up):

    wac script preview examples/orders.py -d '{"customer": "ada", "n": 3}'
"""

import asyncio
import datetime

from wac import parallel, step, task, workflow


@task
async def fetch_order(order_id: int) -> dict:
    print(f"fetching order {order_id}")
    return {"id": order_id, "items": order_id % 3 + 1, "unit_price": 9.5}


@task(timeout=30)
def price(order: dict) -> float:
    return round(order["items"] * order["unit_price"], 2)


@workflow
async def main(customer: str = "ada", n: int = 3):
    # A clock reading is not deterministic: step() records it once, replays reuse it.
    started = await step("started", lambda: datetime.datetime.now(datetime.timezone.utc).isoformat())
    orders = await parallel(list(range(1, n + 1)), fetch_order, concurrency=2)
    prices = await asyncio.gather(*[price(order) for order in orders])
    return {"customer": customer, "started": started, "orders": len(orders), "total": sum(prices)}
