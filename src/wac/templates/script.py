"""A script: main() runs as one job with the job's arguments, and returns its result.

Preview it on the embedded engine (nothing is deployed):

    wac script preview <path> -d '{"name": "Ada"}'
"""


def main(name: str = "world", excited: bool = False) -> str:
    return f"Hello, {name}" + ("!" if excited else ".")
