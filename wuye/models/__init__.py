"""The records of a wuye store as pydantic models. No git, typer or rich here."""
