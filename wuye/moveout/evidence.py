"""Files signed with a step (附件): the scan of the paper the tenant signed, photos of damages and meters.

`moveout sign … --attach FILE` reads each file through storage/attachments.py (type judged by its
content, size capped by wuye.yaml `attachment_max_mib`), writes it under the tenant's
`attachments/moveout/<case>/` (a place the store layout admits as an attachment, so the central
repository's allow-list and cap apply to it as to any scan) and names it in the entry itself, by
path, name, size, type and sha256, before the entry is signed: the signature covers the file, so
the tenant's signed paper is bound to the exact entry, and the file and the entry enter history in
one commit. A correction keeps the earlier revision's files and adds its own.

`problems` is what verify (through cases.case_problems) finds: a file an entry names that is
missing, reached through a link, outside the case's folder, or not the bytes that were signed.
Every problem names the case, the step and the file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from wuye.errors import Problem
from wuye.i18n import tr
from wuye.storage import attachments, layout

FOLDER = "moveout"  # under the tenant's attachments/: attachments/moveout/<case>/


def folder(case_id: str) -> str:
    """The case's attachment folder, relative to the tenant's attachments/."""
    return f"{FOLDER}/{case_id}"


def store_dir(tenant_id: str, case_id: str) -> str:
    """The case's attachment folder, relative to the store."""
    return f"{layout.TENANTS_DIR}/{tenant_id}/attachments/{folder(case_id)}"


def take(store, paths) -> list[attachments.Taken]:
    """Read and check every file given with --attach, before anything is locked or written."""
    return [attachments.take(Path(p), store.config.attachment_max_mib) for p in paths or []]


def place(ch, tenant_id: str, case_id: str, taken: list[attachments.Taken], previous: list | None = None) -> list[dict]:
    """Write the files into the change; the list the entry signs (the previous revision's first,
    then the new ones, a file already listed by its sha256 not twice)."""
    out = [dict(a) for a in previous or [] if isinstance(a, dict)]
    seen = {a.get("sha256") for a in out}
    for t in taken:
        if t.sha256 in seen:
            continue
        seen.add(t.sha256)
        rel = attachments.place(ch, tenant_id, t, folder(case_id))
        out.append({"path": rel, "name": t.name, "size": len(t.data), "type": t.kind, "sha256": t.sha256})
    return out


def listed(entry_data: dict) -> list[dict]:
    items = entry_data.get("attachments")
    return [a for a in items if isinstance(a, dict)] if isinstance(items, list) else []


def problems(store, case) -> list[Problem]:
    """Every file an entry of `case` names: inside the case's folder, a plain file, the bytes signed."""
    from wuye.storage.reading import NotPlainFile, open_fd

    out = []
    inside = f"attachments/{folder(case.id)}/"
    for e in case.entries:
        for a in listed(e.data):
            path = str(a.get("path", ""))
            what = {"case": case.id, "step": e.step, "path": path}

            def bad(code: str, zh: str, en: str) -> None:
                out.append(Problem(e.rel, (tr(zh, en) % what), code=code))

            parts = path.split("/")
            if not path.startswith(inside) or len(parts) != 4 or parts[-1] in ("", ".", ".."):
                bad("entry.attachment-outside", "案件 %(case)s「%(step)s」的附件 %(path)s 不在本案件的附件目录中",
                    "case %(case)s, step %(step)s: attachment %(path)s is not in the case's attachment folder")
                continue
            rel = f"{layout.TENANTS_DIR}/{case.tenant_id}/{path}"
            try:
                fd = open_fd(store.root, rel)
            except NotPlainFile:
                bad("entry.attachment-missing", "案件 %(case)s「%(step)s」的附件 %(path)s 是符号链接或不是普通文件",
                    "case %(case)s, step %(step)s: attachment %(path)s is a link or not a plain file")
                continue
            except OSError:
                bad("entry.attachment-missing", "案件 %(case)s「%(step)s」的附件 %(path)s 不存在（未提交或被删除？）",
                    "case %(case)s, step %(step)s: attachment %(path)s is missing (never committed, or deleted?)")
                continue
            h = hashlib.sha256()
            with os.fdopen(fd, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != a.get("sha256"):
                bad("entry.attachment-digest", "案件 %(case)s「%(step)s」的附件 %(path)s 与签字时的 sha256 不符（文件被替换或改动）",
                    "case %(case)s, step %(step)s: attachment %(path)s does not match the sha256 that was signed (replaced or changed)")
    return out

