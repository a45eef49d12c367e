"""Test-only: shift this process's wall clock by ``WAC_TEST_CLOCK_OFFSET`` seconds.

Put this folder on ``PYTHONPATH`` and every Python process started with it (a ``wac worker``, its
zygote and rounds) sees ``time.time()`` off by the offset, as a machine whose clock is wrong
would. SQLite's own clock (C code) is not shifted: that is the point of the test.
"""

import os
import time

_offset = float(os.environ.get("WAC_TEST_CLOCK_OFFSET") or 0)
if _offset:
    _real_time, _real_time_ns = time.time, time.time_ns
    time.time = lambda: _real_time() + _offset
    time.time_ns = lambda: _real_time_ns() + int(_offset * 1e9)
