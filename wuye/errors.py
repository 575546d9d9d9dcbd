"""Errors as data.

Every refusal in wuye is a `WuyeError`, raised by a service and turned into exit code 1 by the
CLI alone. Validation does not stop at the first problem: it collects `Problem`s, each naming the
file (relative to the store) and, where there is one, the line and column, as yamllint and
beancount print them, so a clerk can open the file at the right place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One finding: where (file, line, column) and what, with its level."""

    path: str
    message: str
    line: int | None = None
    col: int | None = None
    level: str = "error"  # "error" refuses; "warning" is shown and accepted

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        tag = "" if self.level == "error" else f"[{self.level}] "
        return f"{where}: {tag}{self.message}"

    def to_json(self) -> dict:
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "level": self.level,
            "message": self.message,
        }


@dataclass
class WuyeError(Exception):
    """A refusal: bad input, a guard not met, a failed verification, something not found.

    `message` says what happened and what to do; `problems` lists every finding behind it.
    """

    message: str
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == "error"]
