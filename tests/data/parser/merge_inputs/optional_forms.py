from typing import List, Optional, Union


def main(a: Optional[int] = None, b: Optional[list[int]] = None, c: Optional[List] = None, d: list[int] | None = None,
         e: None | list = None, f: Union[list, None] = None, g: Optional[list] = None, h: list | None = None,
         i: Optional[dict] = None, j: dict | None = None, k: Optional[tuple] = None, l: tuple | None = None,
         m: Optional[set] = None, n: Optional[bytes] = None, o: Optional[str] = None, p: str | None = None,
         q: Optional["list"] = None, r: typing_list = None, s: Optional[List[dict]] = None, t: list[str] | None = None):
    return a
