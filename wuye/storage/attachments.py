"""Attachments taken into a store: scans, photos and drawings, checked before they are committed.

A file given with `--attach` (an archive record's documents, a move-out step's scan or photos) is
read once, refused when it is over the store's cap (wuye.yaml `attachment_max_mib`, the same cap the
central repository's allow-list enforces) or when its content is not a JPEG, PNG, PDF or HEIC image
(the first bytes decide, not the file name: a renamed .exe stays out), and written into the tenant's
attachments/ folder by the same change that records its sha256, so that a clone carries it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr

MIB = 1024 * 1024
# ISO base media brands of HEIC/HEIF stills (iPhone photos): the `ftyp` box at offset 4.
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


def sniff(head: bytes) -> str | None:
    """The type a file's first bytes name: "jpeg", "png", "pdf", "heic", or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return "heic"
    return None


@dataclass
class Taken:
    """One attachment read and checked: its content, sha256 and type, and where it goes."""

    name: str
    data: bytes
    sha256: str
    kind: str


def take(path: Path, cap_mib: int) -> Taken:
    """Read `path` as an attachment, or refuse it (one line naming the file and what to do)."""
    shown = str(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise OSError
    except OSError:
        raise WuyeError(tr("%s：附件文件不存在或不是普通文件", "%s: the attachment does not exist or is not a plain file") % shown,
                        [Problem(shown, tr("不存在", "missing"), code="attachment.missing")])
    if size > cap_mib * MIB:
        raise WuyeError(tr("%s：附件 %.1f MiB，超过上限 %d MiB（wuye.yaml attachment_max_mib）；请压缩或分页扫描",
                           "%s: the attachment is %.1f MiB, over the cap of %d MiB (wuye.yaml attachment_max_mib); compress it or scan fewer pages")
                        % (shown, size / MIB, cap_mib), [Problem(shown, "size", code="layout.attachment-too-large")])
    data = path.read_bytes()
    kind = sniff(data[:16])
    if kind is None:
        raise WuyeError(tr("%s：内容不是 JPEG、PNG、PDF 或 HEIC 文件（按文件内容判断，不看扩展名）；请另存为其中一种",
                           "%s: the content is not a JPEG, PNG, PDF or HEIC file (judged by content, not name); save it as one of them")
                        % shown, [Problem(shown, "type", code="attachment.type")])
    return Taken(_safe_name(path.name), data, hashlib.sha256(data).hexdigest(), kind)


def _safe_name(name: str) -> str:
    # A name is kept as the clerk knows it, less what a path or a shell would misread.
    name = re.sub(r'[\x00-\x1f/\\"]', "_", name).strip(" .") or "file"
    return name[-120:]


def place(ch, tenant_id: str, taken: Taken, folder: str = "") -> str:
    """Write the attachment into the change under tenants/<id>/attachments/[folder/]; its path
    relative to the tenant folder. A different file of the same name already there keeps its
    place: the new one is prefixed by its own digest."""
    from wuye.storage import layout

    sub = "attachments/" + (folder.strip("/") + "/" if folder else "")
    rel_t = sub + taken.name
    full = f"{layout.TENANTS_DIR}/{tenant_id}/{rel_t}"
    existing = ch.pending(full)
    if existing is None and ch.store.path(full).is_file():
        existing = ch.store.path(full).read_bytes()
    # attachments/moveout/ holds the files signed with move-out steps (moveout/evidence.py): a
    # record's file of that very name would stand where that folder must be.
    reserved = not folder and taken.name == "moveout"
    if reserved or (existing is not None and hashlib.sha256(existing).hexdigest() != taken.sha256):
        rel_t = sub + taken.sha256[:12] + "-" + taken.name
        full = f"{layout.TENANTS_DIR}/{tenant_id}/{rel_t}"
    ch.write(full, taken.data)
    return rel_t
