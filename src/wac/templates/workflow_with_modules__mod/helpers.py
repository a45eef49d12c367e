"""A module of the workflow next to this folder, run with task_script("./helpers.py").

A module run by task_script needs a main(); its keyword arguments are the ones the workflow
passes, and its return value is the task's result.
"""


def words_of(text: str) -> list[str]:
    return text.split()


def main(text: str) -> dict[str, int]:
    words = words_of(text)
    return {"words": len(words), "letters": sum(len(w) for w in words)}
