"""The records of a wuye store as pydantic models. No git, typer or rich here.

May import: wuye.errors, wuye.i18n.
"""

import os

# Records are validated by these models and nothing else: a pydantic plugin that happens to be
# installed in the same environment (an observability hook such as logfire) would otherwise see
# every tenant's name, phone and ID number as it is validated. Not looking for plugins also
# spares scanning every installed package's entry points, 10 ms of each command at the counter.
# Whoever really wants a plugin can still name the ones to skip in PYDANTIC_DISABLE_PLUGINS.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
