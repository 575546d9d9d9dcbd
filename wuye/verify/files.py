"""Judging store files one by one, as verify's workers do: units, archive files, attachments.

Each function takes the store's root and a batch of store-relative paths and returns one entry per
file, `[rel, blob id, problems as JSON, ...]`, so that a batch can run in a worker process and its
result be kept in the derived cache (see context.py) as it is.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.storage import yamlio


def read_raw(root: Path, rel: str) -> bytes:
    """A store file's bytes; a missing file or a folder refused as yamlio.read_text refuses it."""
    from wuye.storage.reading import read_bytes

    try:
        return read_bytes(root, rel)
    except (FileNotFoundError, IsADirectoryError):
        yamlio.read_text(root / rel, rel)  # raises the located refusal
        raise


def check_unit_files(root: str, rels: list[str]) -> list[list]:
    """[rel, blob id, problems] of each unit file, as `store.read_model(rel, Unit)` judges it."""
    from wuye.storage import cache
    from wuye.models.store import Unit

    out = []
    for rel in rels:
        blob, problems = None, []
        try:
            raw = read_raw(Path(root), rel)
            blob = cache.blob_id(raw)
            text = yamlio.text_of(raw, rel)
            data = yamlio.loads(text, rel)
            u, problems = yamlio.check_model(Unit, data if data is not None else {}, rel, text)
            stem = rel.rsplit("/", 1)[1][: -len(".yaml")]
            if u is not None and u.id != stem:
                problems.append(Problem(rel, tr("id %r 与文件名不符", "id %r does not match the file name") % u.id,
                                        code="unit.id-mismatch"))
        except WuyeError as e:
            problems += e.problems
        out.append([rel, blob, cache.problems_to_json(problems)])
    return out


def check_archive_files(root: str, rels: list[str]) -> list[list]:
    """[rel, blob id, file problems, attachment deps, attachment problems] of each archive file
    (tenants/<id>/<category>.yaml): archive.validate_file's verdict, then its attachments against
    their sha256."""
    from wuye.archive import dossier as archive
    from wuye.storage import cache
    from wuye.models.archive_meta import BY_KEY

    base = Path(root)
    out = []
    for rel in rels:
        tid, key = rel.split("/")[1], rel.rsplit("/", 1)[1][:-5]
        c = BY_KEY[key]
        blob, problems, deps, att = None, [], [], []
        try:
            raw = read_raw(base, rel)
            blob = cache.blob_id(raw)
            obj, problems = archive.validate_text(rel, yamlio.text_of(raw, rel), tid, c)
        except WuyeError as e:
            obj, problems = None, e.problems
        if obj is not None and c.is_list:
            for entry in obj.entries:
                for doc in getattr(entry, "documents", None) or []:
                    deps.append(check_attachment(base, tid, c.filename, entry.id, doc, att))
        out.append([rel, blob, cache.problems_to_json(problems), deps, cache.problems_to_json(att)])
    return out


def check_attachment(root: Path, tid: str, filename: str, entry_id, doc, problems: list) -> list:
    """Check one attachment; [its path in the store, its blob id] for the cache, the blob id None
    when the result cannot be keyed by the file's content alone (it could not be read)."""
    from wuye.storage.reading import NotPlainFile, open_fd

    rel = f"tenants/{tid}/{filename}"
    base = root.resolve()
    tdir = base / "tenants" / tid
    plain = Path(os.path.normpath(tdir / doc.path))
    where = os.path.relpath(plain, base)
    if not plain.is_relative_to(tdir):
        problems.append(Problem(rel, tr("%s 的附件路径 %s 超出租户目录", "%s: attachment path %s leaves the tenant folder") % (entry_id, doc.path),
                                code="attachment.outside"))
        return [where, None]
    # Opened without following any link (storage/reading.py): a link is refused, not hashed.
    try:
        fd = open_fd(base, where)
    except NotPlainFile as e:
        problems.append(Problem(rel, tr("%s 的附件 %s：%s", "%s: attachment %s: %s") % (entry_id, doc.path, e.problems[0].message),
                                code=e.problems[0].code))
        return [where, None]
    except OSError:
        problems.append(Problem(rel, tr("%s 的附件 %s 不存在", "%s: attachment %s is missing") % (entry_id, doc.path),
                                code="attachment.missing"))
        return [where, "-"]
    h = hashlib.sha256()
    with os.fdopen(fd, "rb") as f:
        g = hashlib.sha1(b"blob %d\0" % os.fstat(f.fileno()).st_size)
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            g.update(chunk)
    if h.hexdigest() != doc.sha256:
        problems.append(Problem(rel, tr("%s 的附件 %s 与登记的 sha256 不符（文件被替换或改动）",
                                        "%s: attachment %s does not match its sha256 (replaced or changed)") % (entry_id, doc.path),
                                code="attachment.digest"))
    return [where, g.hexdigest()]
