from datetime import date, datetime
from typing import Literal, Optional

postgresql = dict


def main(s: str, n: int, when: datetime, day: date, blob: bytes, nums: list[int], rec: list[dict],
         e: Literal["a", "b"], pg: postgresql, u=None, o: Optional[str] = None, flag: bool = False,
         ratio: float = 1.0, words: list[str] = ["x"]):
    return s
