"""The move-out's papers and a dossier summary: data from the store, HTML from one Jinja2
template, PDF through WeasyPrint with Noto CJK (Debian fonts-noto-cjk).

Every signature block carries the entry's digest and a QR code of "wuye:<case>:<step>:<digest>",
what `wuye verify-print` takes. The settlement statement prints the signed finance entry's lines
as they are (item, source, amount): a paper never recomputes what finance signed.
"""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

from wuye.errors import WuyeError
from wuye.i18n import tr

KINDS = {  # kind -> (title, the steps whose signatures it carries; None: every step)
    "confirmation": ("迁出申请/确认单", None),
    "inspection": ("验房单", ["engineering_inspection", "security_inspection"]),
    "settlement": ("结算单", ["settlement"]),
    "release": ("放行条", ["release"]),
    "deposit": ("押金处理通知", ["settlement"]),
    "dossier": ("客户档案摘要", []),
}
ALIASES = {"确认单": "confirmation", "迁出确认单": "confirmation", "申请单": "confirmation", "验房单": "inspection",
           "结算单": "settlement", "放行条": "release", "押金处理通知": "deposit", "档案": "dossier"}
QR_PREFIX = "wuye:"
# The settlement entry's totals, as finance's step names them (the lines are printed generically).
TOTAL_LABELS = {"credits": "应退合计", "charges": "应扣合计", "balance": "应退（负数为应补）金额", "refund": "退款金额",
                "amount_due": "应补金额"}
# The settlement entry's other fields, shown as signed under their Chinese names.
FIELD_LABELS = {"settled_on": "结算日期", "receipt_no": "收据号"}


def kind_of(name: str) -> str:
    k = ALIASES.get(name, name)
    if k not in KINDS:
        raise WuyeError(tr("不认识的文件种类 %s；可用：%s", "unknown document kind %s; one of: %s") % (name, ", ".join(KINDS)))
    return k


def qr_payload(case_id: str, step: str, digest: str) -> str:
    return f"{QR_PREFIX}{case_id}:{step}:{digest}"


def parse_qr(text: str) -> tuple[str, str, str]:
    parts = text.strip().split(":", 3)
    if len(parts) != 4 or parts[0] + ":" != QR_PREFIX:
        raise WuyeError(tr("二维码内容应为 wuye:案件:步骤:sha256:…", "a QR payload is wuye:CASE:STEP:sha256:…"))
    return parts[1], parts[2], parts[3]


def _qr_src(text: str) -> str:
    import segno

    png = segno.make(text, error="m").png_data_uri(scale=4, border=2)
    return png


def _money(v) -> str:
    try:
        return f"{Decimal(str(v)):,.2f}"
    except Exception:
        return str(v)


def _mask(value, reveal: bool, key: str | None = None):
    from wuye.archive import privacy

    return privacy.shown(value, reveal) if key is None else (value if reveal else privacy.masked(value, key))


def _staff_name(store, sid: str, reveal: bool) -> str:
    try:
        name = store.staff(sid).name
    except WuyeError:
        return sid
    return f"{name}（{sid}）"


def case_context(store, kind: str, case_id: str, reveal: bool) -> dict:
    from wuye.moveout import cases

    wf = cases.case_workflow(store, case_id)
    case = cases.verified_case(store, wf, case_id)
    titles = {s.id: s.title for s in wf.spec.steps}
    title, wanted = KINDS[kind]
    latest = {e.step: e for e in sorted(case.entries, key=lambda e: e.revision)}
    company = case.info.get("company", "")
    facts = [("案件编号", case.id), ("客户", f"{company}（{case.tenant_id}）"),
             ("房号", "、".join(case.info.get("units") or []))]
    tables, paragraphs, images, blanks, number = [], [], [], [], None
    data = {s: _mask(e.data.get("data") or {}, reveal) for s, e in latest.items()}
    if kind == "confirmation":
        # Who came for the tenant, masked as on screen unless --reveal (privacy.py).
        app = data.get("application", {})
        facts += [(label, app[key]) for key, label in (("representative", "客户代表"), ("representative_phone", "联系电话"))
                  if app.get(key)]
        rows = []
        for s in wf.spec.steps:
            e = latest.get(s.id)
            rows.append([s.title, e.data.get("department", "") if e else "",
                         _staff_name(store, e.data["signer"], reveal) if e else "（未签）",
                         e.data.get("signed_at", "") if e else ""])
        tables.append({"caption": "各部门签字确认", "headers": ["步骤", "部门", "签字人", "时间"], "rows": rows, "numeric": []})
        files = _attachment_rows(latest, [s.id for s in wf.spec.steps], titles)
        if files:
            tables.append(files)
        blanks = ["客户签字：", "物业管理处盖章：", "工程部盖章：", "保安部盖章：", "财务部盖章："]
    elif kind == "inspection":
        d = data.get("engineering_inspection", {})
        facts += [("电表读数", d.get("meter_electricity", "")), ("水表读数", d.get("meter_water", "")),
                  ("设备检查", "是" if d.get("equipment_checked") else "否")]
        rows = [[x.get("location", ""), x.get("description", ""), _money(x.get("amount", ""))] for x in d.get("damages") or []]
        tables.append({"caption": "损坏及应赔金额", "headers": ["位置", "情况", "应赔金额（元）"], "rows": rows, "numeric": [2]})
        # The photos signed with the inspections (moveout/evidence.py), each with the sha256 its
        # entry signed; a PDF or HEIC file is listed, not drawn (the engine renders neither).
        inspections = KINDS["inspection"][1]
        files = _attachment_rows(latest, inspections, titles)
        if files:
            tables.append(files)
        for sid in inspections:
            e = latest.get(sid)
            for a in (e.data.get("attachments") or []) if e else []:
                if a.get("type") in ("png", "jpeg"):
                    images.append({"caption": f"{titles.get(sid, sid)}：{a.get('name', '')}",
                                   "src": _attachment_uri(store, case.tenant_id, a), "sha256": a.get("sha256", "")})
        blanks = ["客户确认签字："]
    elif kind in ("settlement", "deposit"):
        d = data.get("settlement", {})
        lines = d.get("lines") or []
        rows = [[x.get("item", ""), x.get("source", ""), _money(x.get("amount", ""))] for x in lines]
        # The totals are the ones finance signed, shown as they are: a paper recomputes nothing.
        totals = [(TOTAL_LABELS.get(k) or FIELD_LABELS.get(k, k), _money(v) if k in TOTAL_LABELS else v)
                  for k, v in d.items() if k != "lines" and not isinstance(v, (list, dict))]
        facts += totals
        if kind == "settlement":
            tables.append({"caption": "结算明细", "headers": ["项目", "依据", "金额（元）"], "rows": rows, "numeric": [2]})
            tables.append({"caption": "合计", "headers": ["项目", "金额（元）"], "rows": [list(t) for t in totals], "numeric": [1]})
            blanks = ["客户确认签字："]
        else:
            deposits = [r for r, x in zip(rows, lines) if x.get("code") == "deposit"]
            deductions = [r for r, x in zip(rows, lines) if x.get("code") != "deposit"]
            tables.append({"caption": "押金", "headers": ["项目", "依据", "金额（元）"], "rows": deposits, "numeric": [2]})
            tables.append({"caption": "扣除", "headers": ["项目", "依据", "金额（元）"], "rows": deductions, "numeric": [2]})
            if d.get("balance") is not None:
                balance = Decimal(str(d["balance"]))
                paragraphs.append(("经结算，应退还贵司 %s 元。" if balance >= 0 else "经结算，贵司尚应补缴 %s 元。") % _money(abs(balance)))
    elif kind == "release":
        d = data.get("release", {})
        number = d.get("release_pass_no")
        facts += [("放行日期", d.get("released_on", "")), ("放行条编号", number or "")]
        paragraphs.append("兹证明上述客户迁出手续已办理完毕，准予物品放行。")
        blanks = ["保安部值班签字："]
    steps = [s.id for s in wf.spec.steps] if wanted is None else wanted
    signatures = []
    for sid in steps:
        e = latest.get(sid)
        if e is None:
            continue
        signatures.append({"step": titles.get(sid, sid), "step_id": sid, "department": e.data.get("department", ""),
                           "signer": _staff_name(store, e.data["signer"], reveal), "signed_at": e.data.get("signed_at", ""),
                           "revision": e.revision, "case": case.id, "digest": e.digest, "qr": _qr_src(qr_payload(case.id, sid, e.digest))})
    return {"title": title, "facts": facts, "tables": tables, "paragraphs": paragraphs, "images": images,
            "signatures": signatures, "blanks": blanks, "number": number}


def _attachment_rows(latest: dict, steps: list[str], titles: dict) -> dict | None:
    """The table of the files signed with these steps' latest entries, or None when there are none."""
    rows = []
    for sid in steps:
        e = latest.get(sid)
        for a in (e.data.get("attachments") or []) if e else []:
            rows.append([titles.get(sid, sid), a.get("name", ""), str(a.get("type", "")).upper(), f"{int(a.get('size') or 0):,}",
                         a.get("sha256", "")])
    if not rows:
        return None
    return {"caption": "附件（随签字条目提交，sha256 已签入条目）", "headers": ["步骤", "文件", "类型", "字节", "SHA-256"],
            "rows": rows, "numeric": [3], "mono": [4]}


def _attachment_uri(store, tid: str, a: dict) -> str:
    from wuye.storage import attachments
    from wuye.storage.reading import read_bytes

    # Read without following a link (the case verified before printing, so the bytes are the signed ones).
    try:
        data = read_bytes(store.root, f"tenants/{tid}/{a.get('path', '')}")
    except OSError:
        data = b""
    kind = attachments.sniff(data[:16]) or "png"
    return f"data:image/{kind};base64," + base64.b64encode(data).decode("ascii")


def dossier_context(store, tenant_id: str, reveal: bool) -> dict:
    from wuye.archive import dossier, privacy

    tid = dossier.find_tenant(store, tenant_id)
    d = dossier.read_dossier(store, tid)
    data = privacy.masked_dossier(d.data, reveal)
    prof = data.get("profile") or {}
    facts = [(k, v) for k, v in prof.items() if not isinstance(v, (list, dict)) and v not in (None, "")]
    rows = [[c.title, str(len((data.get(c.key) or {}).get("entries") or [])) if c.is_list else ("有" if data.get(c.key) else "无")]
            for c in dossier.CATEGORIES]
    return {"title": KINDS["dossier"][0], "facts": facts, "signatures": [], "blanks": [], "images": [], "paragraphs": [],
            "number": tid, "tables": [{"caption": "档案类别", "headers": ["类别", "条数"], "rows": rows, "numeric": [1]}]}


def render_html(store, kind: str, ident: str, reveal: bool) -> str:
    import jinja2

    kind = kind_of(kind)
    ctx = dossier_context(store, ident, reveal) if kind == "dossier" else case_context(store, kind, ident, reveal)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")), autoescape=True)
    ctx.update(building=store.config.building.name,
               masked_note="个人信息已按规定隐去" if not reveal else "含完整个人信息，请妥善保管")
    return env.get_template("document.html.j2").render(**ctx)


def render_pdf(html: str) -> bytes:
    import weasyprint

    return weasyprint.HTML(string=html).write_pdf()


def verify_print(store, case_id: str, step: str, digest: str) -> dict:
    """The entry a printed digest names, after the case verifies; refused when the digest is not the
    one stored (a changed digit) or the case fails verification."""
    from wuye.moveout import cases

    wf = cases.case_workflow(store, case_id)
    case = cases.verified_case(store, wf, case_id)
    for e in case.entries:
        if e.step == step and e.digest == digest:
            return {"case": case_id, "step": step, "revision": e.revision, "signer": e.data.get("signer"),
                    "signed_at": e.data.get("signed_at"), "digest": digest}
    raise WuyeError(tr("案件 %s 的「%s」没有摘要为 %s 的签字条目：此纸面文件与档案库不符",
                       "case %s has no %s entry with digest %s: this paper does not match the store") % (case_id, step, digest))
