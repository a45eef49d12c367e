"""A durable workflow with modules of its own, in the folder <modules>/.

task_script("./helpers.py") runs main() of the module helpers.py as a job of its own, called
with the keyword arguments it is given; its result is recorded like any task's. The module
folder ships with the workflow (preview, push), so its files may import each other.

Preview it on the embedded engine (nothing is deployed):

    wac script preview <path> -d '{"texts": ["one two", "three"]}'
"""

from wac import parallel, task, task_script, workflow

analyse = task_script("./helpers.py")


@task
async def total_words(stats: list[dict[str, int]]) -> int:
    return sum(s["words"] for s in stats)


@workflow
async def main(texts: list[str] = ["durable workflows", "in plain Python"]) -> dict[str, object]:
    stats = await parallel(texts, lambda text: analyse(text=text))  # one module job per text
    words = await total_words(stats)
    return {"stats": stats, "words": words}
