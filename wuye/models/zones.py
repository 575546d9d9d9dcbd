"""One object per time-zone offset, for every time wuye builds or reads back.

Two aware datetimes of the same tzinfo object compare directly; of two different objects, even of
the same offset, they compare through both offsets, six times slower. A report compares 27,000
records' times with its window and sorts them, so every time it holds should share its zone's
one object: the settings' zone (Settings.tz) is made here, and the records index pickles a
`datetime.timezone` as a call of `zone` (storage/index.py), so that a time read back from it, or
from a worker process, carries the same object again (pickle would otherwise make one per row).
"""

from __future__ import annotations

import datetime as dt
import functools


@functools.lru_cache(maxsize=None)
def zone(offset: dt.timedelta) -> dt.timezone:
    return dt.timezone(offset)


def reduce_zone(tz: dt.timezone):
    """pickle's reduction of a `datetime.timezone`: rebuilt by `zone` unless it has a name of its own."""
    args = tz.__getinitargs__()
    return (zone, args) if len(args) == 1 else (dt.timezone, args)
