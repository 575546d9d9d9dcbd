"""The building's units (房号) as the counter looks them up: by 房号 as written, or by floor.

A unit's file is `units/<unit_id(房号)>.yaml` (models/ids.py); what is shown is its `label`, the
房号 as the office wrote it. Read with the plain YAML reader (no pydantic), as look-ups are.
"""

from __future__ import annotations

from wuye.errors import WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio
from wuye.storage.store import Store


def listing(store: Store, floor: int | None = None) -> list[dict]:
    """Every unit (or those of one floor): 房号, floor, area, status and tenant, by 房号."""
    rows = []
    folder = store.path("units")
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        rel = f"units/{path.name}"
        data = yamlio.read(path, rel) or {}
        if not isinstance(data, dict):
            raise WuyeError(tr("%s：应为映射（键: 值）", "%s: must be a mapping (key: value)") % rel)
        if floor is not None and data.get("floor") != floor:
            continue
        rows.append({"unit": str(data.get("label") or data.get("id") or path.stem), "id": path.stem,
                     "floor": data.get("floor"), "area": data.get("area"), "status": data.get("status", "vacant"),
                     "tenant": data.get("tenant"), "file": rel})
    return rows


def find_unit(store: Store, query: str) -> dict:
    """The unit whose 房号 is `query` as matched (Ａ座８０１ is A座801), or whose file id it is."""
    from wuye.models.ids import unit_key

    key = unit_key(query)
    rows = listing(store)
    hits = [r for r in rows if unit_key(r["unit"]) == key] or [r for r in rows if unit_key(r["id"]) == key]
    if not hits:
        raise WuyeError(tr("找不到房号 %r；`wuye unit list` 列出全部单元", "no unit %r; `wuye unit list` lists them all") % query)
    return hits[0]
