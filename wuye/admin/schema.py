"""Generated artifacts: JSON Schemas from the models, and the field titles the counter view uses.

The pydantic models are the one source of validation. `wuye schema export` writes a JSON Schema per
store file into `schemas/` (for YAML editors: see the README), a copy of the default workflow, and
`wuye/defaults/labels.json`: the Chinese and English titles of every field, which `archive show`
reads so that a look-up needs no pydantic. A test fails when any of them is out of date.
"""

from __future__ import annotations

import json
from pathlib import Path

PACKAGE_DIR = Path(__file__).parents[1]  # wuye/
LABELS = PACKAGE_DIR / "defaults" / "labels.json"


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def english_title(name: str, field) -> str:
    """A field's English title: `title_en` where the model gives one, else its name in words
    (`legal_rep_id` → "Legal rep id"), so that `WUYE_LANG=en` shows no Chinese header."""
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    if extra.get("title_en"):
        return str(extra["title_en"])
    words = [_ACRONYMS.get(w, w) for w in name.split("_")]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


_ACRONYMS = {"id": "ID", "uscc": "USCC", "ac": "AC", "ids": "IDs", "sha256": "SHA-256", "url": "URL"}


def _titles(model) -> dict:
    """{field: [中文, English]} and, for nested models and lists of them,
    {field: {"": [中文, English], sub: ...}}."""
    import typing

    out = {}
    for name, f in model.model_fields.items():
        title = [f.title or name, english_title(name, f)]
        ann = f.annotation
        inner = [a for a in typing.get_args(ann) if hasattr(a, "model_fields")]
        if hasattr(ann, "model_fields"):
            inner = [ann]
        if inner:
            out[name] = {"": title, **_titles(inner[0])}
        else:
            out[name] = title
    return out


def _values(model) -> dict:
    """{field: {value: 中文}} for the fields whose values are a fixed set, read from their
    descriptions ("open 已受理；closed 已关闭"), so the screen shows 已受理 rather than open."""
    import re
    import typing

    out = {}
    for name, f in model.model_fields.items():
        args = [a for a in typing.get_args(f.annotation) if a is not type(None)]
        choices = typing.get_args(args[0]) if len(args) == 1 and typing.get_origin(args[0]) is typing.Literal else ()
        if typing.get_origin(f.annotation) is typing.Literal:
            choices = typing.get_args(f.annotation)
        found = {}
        for value in choices:
            m = re.search(r"(?:^|[；;，,\s])%s ([^；;，,]+)" % re.escape(str(value)), f.description or "")
            if m:
                found[str(value)] = m.group(1).strip()
        if found:
            out[name] = found
    return out


def schemas() -> dict[str, str]:
    """File name -> text of every generated schema file (for `schemas/`)."""
    from wuye.admin.create import default_text
    from wuye.models.archive import CATEGORIES, file_model
    from wuye.models.registers import ImprovementFile, TrainingFile
    from wuye.models.store import Staff, StoreConfig, Unit
    from wuye.models.workflow import StepEntry, WorkflowFile, MoveOutCase

    files = {}
    for c in CATEGORIES:
        s = file_model(c).model_json_schema()
        s["title"] = f"{c.title} / {c.title_en}"
        files[f"{c.key}.schema.json"] = _dump(s)
    from wuye.models.desk import CommonRepairList, InquiryList

    for name, model in (("wuye", StoreConfig), ("unit", Unit), ("staff", Staff), ("workflow", WorkflowFile),
                        ("case", MoveOutCase), ("step", StepEntry), ("training", TrainingFile),
                        ("improvements", ImprovementFile), ("inquiries", InquiryList),
                        ("common_repairs", CommonRepairList)):
        files[f"{name}.schema.json"] = _dump(model.model_json_schema())
    files["moveout.workflow.yaml"] = default_text("moveout.yaml")
    return files


def labels() -> str:
    from wuye.models.archive import CATEGORIES

    from wuye.archive.dossier import ordered  # the reading order records are written in

    from wuye.models.archive import entry_model

    return _dump({c.key: {"": [c.title, c.title_en], **ordered(_titles(entry_model(c))), "@values": _values(entry_model(c))}
                  for c in CATEGORIES})


def export(directory: Path) -> list[str]:
    """Write the schemas and labels; return the files that changed."""
    changed = []
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in schemas().items():
        p = directory / name
        if not p.is_file() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
            changed.append(str(p))
    text = labels()
    if not LABELS.is_file() or LABELS.read_text(encoding="utf-8") != text:
        LABELS.write_text(text, encoding="utf-8")
        changed.append(str(LABELS))
    return changed


def outdated(directory: Path) -> list[str]:
    """The generated files that differ from what the models give now."""
    stale = [n for n, t in schemas().items()
             if not (directory / n).is_file() or (directory / n).read_text(encoding="utf-8") != t]
    if not LABELS.is_file() or LABELS.read_text(encoding="utf-8") != labels():
        stale.append(str(LABELS))
    return stale


def load_labels() -> dict:
    return json.loads(LABELS.read_text(encoding="utf-8"))
