"""`wuye moveout`: open a case, sign its steps, settle, cancel it, amend a closed one, see its board, print what was signed."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from wuye.i18n import tr
from wuye.cli.context import open_store
from wuye.cli.output import cell, grid, out, print_json, say, table, visible

app = typer.Typer(no_args_is_help=True, help=tr("客户迁出：各部门依次签字", "tenant move-out, signed off department by department"))

AS_HELP = tr("签字员工编号（默认 WUYE_USER）", "the signing staff id (default: WUYE_USER)")
JSON_HELP = tr("输出 JSON", "print JSON")
SET_HELP = tr("字段=值（可重复）", "field=value (repeatable)")
ATTACH_HELP = tr("随此条目签字提交的文件（JPEG/PNG/PDF/HEIC，可重复）：客户签字页的扫描件、损坏或表计照片；sha256 签入条目",
                 "a file signed and committed with this entry (JPEG/PNG/PDF/HEIC, repeatable): the scan of the paper the tenant signed, "
                 "a photo of a damage or a meter; its sha256 is signed into the entry")
FILE_HELP = tr("YAML/JSON 文件：此步骤的字段（如损坏清单）", "YAML/JSON file with this step's fields (e.g. the damages list)")


def _data(file: Path | None, sets: list[str] | None, store=None, step: str | None = None) -> tuple[dict, tuple[str, str | None]]:
    """The step's fields from --file and --set, and where they came from (for error messages).
    With the step, a --set key may be the field's Chinese title (电表终读数=…)."""
    from wuye.archive.dossier import english_keys, parse_sets, read_input_file
    from wuye.errors import WuyeError

    data: dict = {}
    source: tuple[str, str | None] = ("--set", None)
    if file is not None:
        loaded, text = read_input_file(file)
        if not isinstance(loaded, dict):
            raise WuyeError(tr("%s：应为字段映射（键: 值）", "%s: must be a mapping of fields") % file)
        data.update(loaded)
        source = (str(file), text)
    given = parse_sets(sets or [])
    if given and store is not None:
        from wuye.moveout import workflow

        wf = workflow.load(store)
        step = step or wf.first.id
        if step in wf.steps:
            given = english_keys(wf.data_model(step), given)
    data.update(given)
    return data, source


def _signed(result) -> None:
    say(tr("已签字：%s %s 第 %d 版（%s），提交 %s",
           "signed: %s %s revision %d (%s), commit %s") % (result.case_id, result.step, result.revision, result.digest[:19], (result.commit or "")[:10]))
    for a in result.entry.get("attachments") or []:
        say(tr("  附件：%s（%s，%d 字节，sha256 %s…）", "  attached: %s (%s, %d bytes, sha256 %s…)")
            % (visible(a["path"]), a["type"], a["size"], a["sha256"][:16]))


@app.command("start")
def start(
    ctx: typer.Context,
    tenant_id: str = typer.Argument(..., help=tr("客户编号、房号、公司名称的一部分或拼音首字母", "tenant id, unit, part of the company name, or pinyin initials")),
    date: str = typer.Option(..., "--date", help=tr("计划迁出日期 YYYY-MM-DD", "planned move-out date, YYYY-MM-DD")),
    reason: str = typer.Option(None, "--reason", help=tr("退租原因", "reason for leaving")),
    file: Path = typer.Option(None, "--file", help=FILE_HELP),
    set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
    short_notice: str = typer.Option(None, "--short-notice", help=tr(
        "确认计划迁出日期已过或提前通知不足（wuye.yaml moveout.notice_days）的理由；签入通知",
        "the reason for confirming a planned date already past or short of the notice period (wuye.yaml moveout.notice_days); signed into the notice")),
    attach: list[Path] = typer.Option(None, "--attach", help=ATTACH_HELP),
    units: list[str] = typer.Option(None, "--units", help=tr(
        "部分迁出：只迁出这些单元（房号，可重复或用逗号分隔），其余单元继续租用；默认迁出全部",
        "a partial move-out: only these units (房号, repeatable or comma-separated) move out, the others stay leased; default: all")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """开案并签发租售部书面通知 / open a case and sign the leasing notice."""
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    data, source = _data(file, set_, store)
    result = moveout.start(store, tenant_id, as_, date, reason, data, source, short_notice, attach or [], units)
    typer.echo(result.case_id)
    _signed(result)


@app.command("sign")
def sign(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号，如 MO-2026-0003", "case id, e.g. MO-2026-0003")),
    step: str = typer.Argument(..., help=tr("步骤，如 engineering_inspection", "step, e.g. engineering_inspection")),
    file: Path = typer.Option(None, "--file", help=FILE_HELP),
    set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
    correct: bool = typer.Option(False, "--correct", help=tr("更正已签字的步骤（新版本；保留上一版的附件）", "correct a signed step (a new revision; it keeps the earlier revision's attachments)")),
    attach: list[Path] = typer.Option(None, "--attach", help=ATTACH_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """签一个步骤 / sign one step."""
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    data, source = _data(file, set_, store, step)
    _signed(moveout.sign(store, case_id, step, as_, data, correct, source=source, attach=attach or []))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号，如 MO-2026-0003", "case id, e.g. MO-2026-0003")),
    reason: str = typer.Option(..., "--reason", help=tr("撤销原因（如：客户续租）；签入条目，不写入提交说明", "why it is cancelled (e.g. the tenant renews); signed into the entry, never put in the commit message")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """撤销已开案的迁出（结算签字之前；租售部或管理层签字） / cancel a started move-out (before settlement; leasing or management)."""
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    result = moveout.cancel(store, case_id, as_, reason)
    say(tr("已撤销：%s（%s），提交 %s；租户恢复为在租，可重新开案",
           "cancelled: %s (%s), commit %s; the tenant is active again and a new case may be opened")
        % (result.case_id, result.digest[:19], (result.commit or "")[:10]))


@app.command("settle")
def settle(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    charge: list[str] = typer.Option(None, "--charge", help=tr("其他扣款 项目=金额（可重复）", "other charge ITEM=AMOUNT (repeatable)")),
    withhold: list[str] = typer.Option(None, "--withhold", help=tr("扣留部分押金 押金编号=金额:理由（可重复）", "withhold part of a deposit DEPOSIT=AMOUNT:REASON (repeatable)")),
    forfeit: list[str] = typer.Option(None, "--forfeit", help=tr("没收押金 押金编号:理由（按租约规定，可重复）", "forfeit a deposit DEPOSIT:REASON (as the lease says; repeatable)")),
    receipt: str = typer.Option(None, "--receipt", help=tr("收据号", "receipt number")),
    dry_run: bool = typer.Option(False, "--dry-run", help=tr("只计算显示，不签字", "compute and print only; sign nothing")),
    correct: bool = typer.Option(False, "--correct", help=tr("重新结算（新版本）", "settle again (a new revision)")),
    attach: list[Path] = typer.Option(None, "--attach", help=ATTACH_HELP),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """财务结算：计算明细并签字 / compute the itemised settlement and sign it (finance)."""
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    st, result = moveout.settle(store, case_id, as_, dry_run, charge or [], receipt, correct, withhold or [], forfeit or [], attach or [])
    if as_json:
        print_json(st.to_data())
    else:
        render_statement(st)
    if result is not None:
        _signed(result)
    else:
        say(tr("试算，未签字", "dry run; nothing signed"))


@app.command("amend")
def amend(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("已结案的案件编号", "case id of a closed case")),
    reason: str = typer.Option(..., "--reason", help=tr("更正原因；签入条目", "why the settlement is amended; signed into the entry")),
    charge: list[str] = typer.Option(None, "--charge", help=tr("更正后的其他扣款 项目=金额（可重复；给出时取代原签的全部其他扣款，不给则沿用）",
                                                               "other charge of the corrected statement ITEM=AMOUNT (repeatable; replaces all the signed ones, kept when none is given)")),
    withhold: list[str] = typer.Option(None, "--withhold", help=tr("扣留部分押金 押金编号=金额:理由（可重复；与 --forfeit 一起取代原签的扣留和没收）",
                                                                   "withhold part of a deposit DEPOSIT=AMOUNT:REASON (repeatable; with --forfeit, replaces the signed withholds and forfeits)")),
    forfeit: list[str] = typer.Option(None, "--forfeit", help=tr("没收押金 押金编号:理由（可重复）", "forfeit a deposit DEPOSIT:REASON (repeatable)")),
    dry_run: bool = typer.Option(False, "--dry-run", help=tr("只计算显示，不签字", "compute and print only; sign nothing")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """结案后更正结算（财务或管理层签字，待管理层另一位成员批准） / amend the settlement of a closed case (finance or management; approved by another manager)."""
    from wuye.moveout import amendment

    store = open_store(ctx)
    st, data, result = amendment.amend(store, case_id, as_, reason, charge or [], withhold or [], forfeit or [], dry_run)
    if as_json:
        print_json({**st.to_data(), "amends_balance": data["amends_balance"], "difference": data["difference"], "changes": data["changes"]})
    else:
        render_statement(st)
        render_changes(data)
    if result is not None:
        _signed(result)
        say(tr("待管理层批准：wuye moveout approve-amendment %s --as 经理", "awaiting approval: wuye moveout approve-amendment %s --as MANAGER") % case_id)
    else:
        say(tr("试算，未签字", "dry run; nothing signed"))


def render_changes(data: dict) -> None:
    from decimal import Decimal

    rows = [[c["item"], c["source"], f"{Decimal(c['was']):,.2f}", f"{Decimal(c['now']):,.2f}", f"{Decimal(c['amount']):+,.2f}"]
            for c in data["changes"]]
    d = Decimal(data["difference"])
    rows.append([tr("原签结余", "balance signed"), "", "", "", f"{Decimal(data['amends_balance']):,.2f}"])
    rows.append([tr("差额：退还客户", "difference: refund to tenant") if d > 0 else tr("差额：客户应补", "difference: due from tenant")
                 if d < 0 else tr("差额", "difference"), "", "", "", f"{d:+,.2f}"])
    grid(tr("逐行差额", "Line-by-line difference"), [tr("项目", "item"), tr("来源", "source"), tr("原金额", "was"), tr("更正后", "now"),
                                                  tr("差额（元）", "difference (yuan)")], rows, right={2, 3, 4}, footer=len(data["changes"]))


@app.command("approve-amendment")
def approve_amendment(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    note: str = typer.Option(None, "--note", help=tr("审批意见", "a note with the approval")),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """批准结案后的更正（管理层，非更正人本人）；差额生效 / approve the amendment (management, not the amender); its difference takes effect."""
    from decimal import Decimal

    from wuye.moveout import amendment

    store = open_store(ctx)
    result = amendment.approve(store, case_id, as_, note)
    _signed(result)
    d = Decimal(result.entry["data"]["difference"])
    if d < 0:
        say(tr("客户应补 %s 元已记入缴费记录（payments.yaml），待收取", "%s yuan due from the tenant entered in payments.yaml, to be collected") % f"{-d:,.2f}")
    elif d > 0:
        say(tr("应退客户 %s 元；支付后请财务记录：wuye moveout pay-amendment %s --set amount=%s …",
               "%s yuan to refund; once paid, finance records it: wuye moveout pay-amendment %s --set amount=%s …") % (f"{d:,.2f}", case_id, d))


@app.command("pay-amendment")
def pay_amendment(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    file: Path = typer.Option(None, "--file", help=FILE_HELP),
    set_: list[str] = typer.Option(None, "--set", help=SET_HELP),
    as_: str = typer.Option(None, "--as", help=AS_HELP),
):
    """记录经批准的更正退款已支付（字段同「退款支付」，财务签字） / record the approved amendment's refund paid out (the payout step's fields; finance)."""
    from wuye.moveout import amendment

    store = open_store(ctx)
    data, source = _data(file, set_, store, "payout")
    _signed(amendment.pay(store, case_id, as_, data, source))


def render_statement(st) -> None:
    rows = [[line.item, line.source, f"{line.amount:,.2f}"] for line in st.lines]
    b = st.balance
    rows += [[tr("应退合计", "credits"), "", f"{st.credits:,.2f}"], [tr("应扣合计", "charges"), "", f"{-st.charges:,.2f}"],
             [tr("退还客户", "refund to tenant") if b >= 0 else tr("客户应补", "due from tenant"), "", f"{abs(b):,.2f}"]]
    grid(tr("迁出结算单", "Move-out settlement"), [tr("项目", "item"), tr("来源", "source"), tr("金额（元）", "amount (yuan)")],
         rows, right={2}, footer=len(st.lines), styles=[None] * (len(rows) - 1) + ["bold"])


STATE = {"done": ("✓ 已签", "✓ done"), "ready": ("… 待签", "… waiting"), "blocked": ("✗ 未到", "✗ blocked"),
         "not_needed": ("— 不需要", "— not needed"), "cancelled": ("— 已撤销", "— cancelled")}


def status_label(status: str | None) -> str:
    return {"closed": tr("已结案", "closed"), "cancelled": tr("已撤销", "cancelled")}.get(status or "", tr("办理中", "open"))


@app.command("status")
def status(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """案件进度、七项管理标准和下一步 / the case board, the seven standards, and what is next."""
    from rich.text import Text

    from wuye.storage import verdicts
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    # The board as last computed while none of the files it is computed from has changed: a
    # look-up at the counter then needs neither the models nor the signature checks.
    b = verdicts.board(store, case_id, lambda where, verified: moveout.board(store, case_id, where, verified))
    if as_json:
        print_json(b)
        return
    console = out()
    head = Text(visible(b["case"]), style="bold")
    kept = (tr("（部分迁出，留租 %s）", " (partial; keeps %s)") % cell(b["units_kept"])) if b.get("units_kept") else ""
    head.append(visible(f"  {b['company']} ({b['tenant_id']})  {tr('房号', 'units')} {cell(b['units'])}{kept}  "
                + status_label(b["status"])))
    console.print(head)
    gone = b.get("cancelled")
    if gone:
        from wuye.archive.privacy import mask_message  # the reason is free text: a phone in it is masked

        console.print(Text(visible(mask_message(tr("已于 %s 由 %s（%s）撤销，原因：%s", "cancelled at %s by %s (%s); reason: %s")
                                                % ((gone.get("signed_at") or "").replace("T", " ")[:16], gone.get("signer_name"),
                                                   gone.get("signer"), gone.get("reason") or "")))))
    rows = []
    for s in b["steps"]:
        zh, en = STATE[s["state"]]
        who = f"{s.get('signer_name')} ({s.get('signer')})" if s["state"] == "done" else ""
        if s.get("revision", 1) > 1:
            who += tr(f" 第{s['revision']}版", f" rev {s['revision']}")
        when = (s.get("signed_at") or "").replace("T", " ")[:16]
        rows.append([s["title"], tr(zh, en), who, when, cell(s["signers"])])
    grid(tr("步骤", "Steps"), [tr("步骤", "step"), tr("状态", "state"), tr("签字", "signed by"), tr("时间", "when"),
                             tr("签字部门", "signed by dept")], rows)
    if b["standards"]:
        grid(tr("管理标准", "Management standards"), ["", tr("标准", "standard"), tr("情况", "detail")],
             [["✓" if r["met"] else "✗", f"{r['number']}. {r['title']}", r["detail"]] for r in b["standards"]])
    render_amendments(b.get("amendments") or [])
    for p in b["problems"]:
        say(f"{p['path']}: {p['message']}")
    if b["next"]:
        say(tr("下一步：", "next: ") + tr("；", "; ").join(tr("%s（%s）", "%s (%s)") % (n["title"], cell(n["signers"])) for n in b["next"]))
    if b["problems"]:
        raise typer.Exit(1)


def render_amendments(rows: list[dict]) -> None:
    """The amendments of a closed case, each with its approval (or that it awaits one)."""
    from decimal import Decimal

    from wuye.archive.privacy import mask_message  # the reason is free text

    table_rows = []
    for a in rows:
        when = lambda v: (v or "").replace("T", " ")[:16]
        if a.get("approval"):
            ap = a["approval"]
            state = tr("已批准：%s（%s）%s", "approved by %s (%s) %s") % (ap["signer_name"], ap["signer"], when(ap["signed_at"]))
        elif a.get("superseded"):
            state = tr("已被后一版取代", "superseded")
        else:
            state = tr("待管理层批准", "awaiting management's approval")
        if a.get("payout"):
            state += tr("；退款已于 %s 支付", "; refund paid out on %s") % a["payout"]["paid_on"]
        table_rows.append([a["file"], f"{a['signer_name']} ({a['signer']}) {when(a['signed_at'])}", visible(mask_message(a.get("reason") or "")),
                           f"{Decimal(a['amends_balance']):,.2f}", f"{Decimal(a['balance']):,.2f}", f"{Decimal(a['difference']):+,.2f}", state])
    if table_rows:
        grid(tr("结案后更正", "Amendments after closing"), [tr("条目", "entry"), tr("更正人", "amended by"), tr("原因", "reason"),
             tr("原签结余", "balance signed"), tr("更正后结余", "corrected balance"), tr("差额", "difference"), tr("审批", "approval")],
             table_rows, right={3, 4, 5})


@app.command("list")
def list_(
    ctx: typer.Context,
    open_only: bool = typer.Option(False, "--open", help=tr("只列办理中的案件", "open cases only")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出迁出案件 / list move-out cases."""
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    rows = moveout.list_cases(store, open_only)
    for r in rows:
        r["status_label"] = status_label(r["status"])
        r["progress"] = f"{len(r['steps_signed'])}"
    table([("case", tr("案件", "case")), ("tenant_id", tr("客户", "tenant")), ("company", tr("公司", "company")),
           ("units", tr("房号", "units")), ("status_label", tr("状态", "status")), ("progress", tr("已签步骤数", "steps signed"))],
          rows, as_json)


@app.command("payload")
def payload(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    step: str = typer.Argument(..., help=tr("步骤", "step")),
    revision: int = typer.Option(None, "--revision", help=tr("版本（默认最新）", "revision (default: latest)")),
    signature: bool = typer.Option(False, "--signature", help=tr("输出签名而不是被签的内容", "print the armored signature instead of the signed bytes")),
    as_: str = typer.Option(None, "--as", help=tr("谁在取出被签内容（不带 --signature 时必需；默认 WUYE_USER；记入本机访问日志）",
                                                  "who takes the signed bytes (required without --signature; default: WUYE_USER; logged locally)")),
):
    """输出被签的原始字节（或签名），供 ssh-keygen -Y verify 独立核验 / print the exact signed bytes (or the signature)."""
    from wuye.archive import privacy
    from wuye.moveout import cases as moveout

    store = open_store(ctx)
    # The signed bytes are exact (a representative's name, a new phone): like an export, they
    # are taken by someone named, and logged. The signature alone holds no personal data.
    who = None if signature else privacy.identity(store, as_, "wuye moveout payload")
    entry = moveout.payload(store, case_id, step, revision)
    if who is not None:
        privacy.record_reveal(store.root, "moveout payload", f"{case_id} {step} r{entry.data.get('revision', revision or '')}", who)
    if signature:
        sys.stdout.write(entry.data.get("signature") or "")
    else:
        sys.stdout.buffer.write(entry.payload)
    sys.stdout.flush()


@app.command("bundle")
def bundle(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help=tr("案件编号", "case id")),
    output: Path = typer.Option(..., "-o", "--output", help=tr("输出的 zip 文件，如 case.zip", "the zip to write, e.g. case.zip")),
    reveal: bool = typer.Option(False, "--reveal", help=tr("打印文件和引用的档案记录中印出完整个人信息", "personal data in full in the printed papers and the cited records")),
    as_: str = typer.Option(None, "--as", help=tr("谁在导出（必需；默认 WUYE_USER；记入本机访问日志：被签内容含个人信息）",
                                                  "who exports it (required; default: WUYE_USER; logged locally: the signed bytes hold personal data)")),
):
    """争议材料包：条目、签名、授权链、附件、打印文件和 ssh-keygen 核验说明 / a dispute bundle anyone can check with OpenSSH alone."""
    from wuye.printing import bundle as bundles

    store = open_store(ctx)
    b = bundles.build(store, case_id, as_, output, reveal)
    say(tr("已生成 %s：%d 个文件、%d 个签名；解压后按其中 README.md 用 ssh-keygen 核验",
           "wrote %s: %d files, %d signatures; unzip it and check it with ssh-keygen as its README.md says")
        % (b.path, len(b.files), len(b.commands)))


@app.command("fields")
def fields(
    ctx: typer.Context,
    step: str = typer.Argument(..., help=tr("步骤，如 engineering_inspection", "step, e.g. engineering_inspection")),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
):
    """列出一个步骤的字段 / list a step's fields."""
    from wuye.archive.dossier import field_rows
    from wuye.cli.archive import field_table
    from wuye.moveout import workflow

    wf = workflow.load(open_store(ctx))
    wf.step(step)
    field_table(field_rows(wf.data_model(step)), {}, as_json)
