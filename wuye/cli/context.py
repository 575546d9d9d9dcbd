"""The store a command works on, opened once from the root `--store` option.

Its own module so that the command modules (cli/archive.py, …) need not import cli/__init__,
which imports them all to mount them.
"""

from __future__ import annotations

import typer


def open_store(ctx: typer.Context):
    from wuye.storage.store import Store

    root_ctx = ctx.find_root()
    store = Store.open((root_ctx.obj or {}).get("store"))

    def tell() -> None:
        from wuye.cli.output import say

        for notice in store.notices:
            say(notice)

    ctx.call_on_close(tell)
    return store
