from typing import List, Optional


def main(a: list, b: Optional[list] = None, c: list[str] = [], d: dict = {}, e: list | None = None,
         f: List = [], g: Optional[List[str]] = None, h: Optional[dict] = None):
    return a
