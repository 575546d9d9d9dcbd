"""The seven management standards of a move-out (管理标准, 第1篇 三).

Each standard is a small function over a case's context returning (met, detail), registered in
one list, as beancount registers its checks. `wuye moveout status` shows them all; the closing
step (release) is refused while any of the first six is unmet. The settlement standards compare
the signed statement with one computed from the archive now, so a fee recorded after finance
signed makes "no arrears" fail until the settlement is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from decimal import Decimal
from typing import Callable

from wuye.i18n import tr


@dataclass
class Context:
    store: object
    wf: object
    case: object
    steps: dict  # step id -> latest entry data (with "_file")
    move_in: object | None
    # The statement computed from the archive now: cases.statement, handed in by the case module
    # (which also calls these standards), so that the two modules do not import each other.
    compute_statement: Callable

    def signed(self, step: str) -> dict | None:
        return self.steps.get(step)

    @cached_property
    def recomputed(self) -> tuple[object | None, str | None]:
        """(the statement computed from the archive now, None) or (None, why it cannot be).
        Only an open case needs it, so a closed case's board reads no payments or violations."""
        from wuye.errors import WuyeError

        try:
            return self.compute_statement(self.store, self.case), None
        except WuyeError as e:
            return None, str(e)

    def settled_lines(self) -> list[dict]:
        s = self.signed("settlement")
        return s["data"].get("lines", []) if s else []


Standard = Callable[[Context], tuple[bool, str]]
STANDARDS: list[tuple[str, str, str, Standard]] = []


def standard(number: str, zh: str, en: str):
    def register(fn: Standard) -> Standard:
        STANDARDS.append((number, zh, en, fn))
        return fn
    return register


@standard("1", "租售部书面通知客服部办理迁出", "Leasing notified customer service in writing")
def notice_in_writing(ctx: Context):
    n = ctx.signed("notice")
    if n is None:
        return False, tr("租售部尚未签发书面通知", "leasing has not signed the notice")
    return n["department"] == "leasing", tr("%s 于 %s 签发", "signed by %s on %s") % (n["signer"], n["signed_at"][:10])


@standard("2", "出入证、单元钥匙如数交回客服部", "Access cards and unit keys all handed back")
def passes_and_keys(ctx: Context):
    from wuye.moveout.settlement import shortages

    if ctx.signed("return_pass") is None or ctx.signed("handover") is None:
        return False, tr("待退证和客服交接", "waiting for the card return and the handover")
    short = shortages(ctx.move_in, ctx.steps)
    if not short:
        return True, tr("已如数交回", "all handed back")
    charged = {l["code"] for l in ctx.settled_lines()}
    uncharged = [(fee, n, label) for fee, n, _, label in short if f"unreturned:{fee}" not in charged]
    if uncharged:
        return False, tr("未交回且未在结算中收费：%s；请更正结算（settle --correct）" % "、".join(f"{label} {n}" for _, n, label in uncharged),
                         "not returned and not charged: %s; correct the settlement (settle --correct)" % ", ".join(f"{n} {label}" for _, n, label in uncharged))
    return True, tr("短缺已在结算中收费", "shortages charged in the settlement")


@standard("3", "客户无拖欠费用", "No fees owed")
def no_arrears(ctx: Context):
    s = ctx.signed("settlement")
    if s is None:
        return False, tr("财务尚未结算", "finance has not settled")
    balance = Decimal(s["data"]["balance"])
    # Once closed, the archive shows the settled items as paid: the signed statement stands.
    if not ctx.case.closed:
        statement, error = ctx.recomputed
        if statement is None:
            return False, tr("无法重新核算：%s", "cannot recompute: %s") % error
        from wuye.moveout.settlement import FINANCE_CODES

        signed = {(l["code"], l["source"], l["amount"]) for l in s["data"]["lines"] if l["code"] not in FINANCE_CODES}
        now = {(l.code, l.source, str(l.amount)) for l in statement.lines if l.code not in FINANCE_CODES}
        if signed != now:
            return False, tr("结算后档案有变化（新的费用或欠费？），请更正结算（settle --correct）",
                             "the archive changed after the settlement (new fees or arrears?); correct it (settle --correct)")
    if balance >= 0:
        return True, tr("已结算，应退 %s 元", "settled; %s yuan to refund") % balance
    return True, tr("已结算，客户应补 %s 元", "settled; the tenant owes %s yuan") % -balance


def money_moved(ctx: Context) -> tuple[Decimal, Decimal, Decimal] | None:
    """(refund paid out, amount due received, amount written off or sent to collections) by the
    latest entries of the payout, collection and writeoff steps; None before the settlement."""
    if ctx.signed("settlement") is None:
        return None
    amount = lambda step: Decimal((ctx.signed(step) or {"data": {}})["data"].get("amount") or "0")
    return amount("payout"), amount("collection"), amount("writeoff")


@standard("3.1", "结算款已收付（退款已支付，或应补款已收、已核销或已转催收）",
          "Settlement balance moved (refund paid out, or amount due received, written off or sent to collections)")
def balance_moved(ctx: Context):
    s = ctx.signed("settlement")
    if s is None:
        return False, tr("财务尚未结算", "finance has not settled")
    balance = Decimal(s["data"]["balance"])
    paid_out, received, written = money_moved(ctx)
    if balance == 0:
        return True, tr("结余为零，无须收付", "nothing to pay or collect")
    if balance > 0:
        if "payout" not in ctx.wf.steps:
            return True, tr("应退 %s 元（本库流程没有退款支付步骤）", "%s yuan to refund (this store's workflow has no payout step)") % balance
        if paid_out != balance:
            return False, tr("应退 %s 元，已支付 %s 元；请财务签「退款支付」（wuye moveout sign 案件 payout）",
                             "%s yuan to refund, %s paid out; finance signs the payout (wuye moveout sign CASE payout)") % (balance, paid_out)
        p = ctx.signed("payout")["data"]
        return True, tr("已于 %(on)s 退还 %(amount)s 元，凭证 %(voucher)s", "%(amount)s yuan refunded on %(on)s, voucher %(voucher)s") % {
            "on": p.get("paid_on"), "amount": balance, "voucher": p.get("voucher")}
    due = -balance
    if received + written != due:
        return False, tr("客户应补 %s 元，已收 %s 元、已核销或转催收 %s 元；请财务签「应补款收取」（collection），"
                         "或由管理层签「核销或转催收」（writeoff）",
                         "the tenant owes %s yuan: %s received, %s written off or sent to collections; finance signs the "
                         "collection, or management the writeoff") % (due, received, written)
    return True, tr("客户应补 %s 元：已收 %s 元，核销或转催收 %s 元", "the tenant owed %s yuan: %s received, %s written off or sent to collections") % (due, received, written)


# The optional steps that move the settlement's money, and the sign of the balance each moves.
MONEY_STEPS = {"payout": 1, "collection": -1, "writeoff": -1}


def money_step_open(ctx: Context, step: str) -> bool | None:
    """Whether money `step` still has money to move: a payout while a refund is unpaid, a
    collection or writeoff while an amount due is not covered; False once the balance has moved,
    or for the other sign. None before the settlement and for a step that is not a money step.
    The board and each department's to-do ask this, so neither offers a payout for a tenant who
    owes money, nor a writeoff for an amount already collected."""
    sign = MONEY_STEPS.get(step)
    s = ctx.signed("settlement")
    if sign is None or s is None:
        return None
    try:
        balance = Decimal(str(s["data"]["balance"]))
    except (KeyError, TypeError, ArithmeticError):
        return False  # a settlement without a readable balance: verify reports it
    met, _ = balance_moved(ctx)
    return not met and balance * sign > 0


@standard("4", "房态已按要求恢复", "Unit restored as required")
def unit_restored(ctx: Context):
    h = ctx.signed("handover")
    if h is None:
        return False, tr("待客服交接确认装修状态", "waiting for the handover to confirm the fit-out")
    if h["data"].get("renovation") == "restored":
        return True, tr("已恢复原状", "restored to its original state")
    return True, tr("装修保留（不恢复，装修不得拆除）", "fit-out kept (not restored, so it may not be dismantled)")


@standard("5", "房内无设施破损（或已赔偿）", "No damage in the unit (or compensated)")
def no_damage(ctx: Context):
    e = ctx.signed("engineering_inspection")
    if e is None:
        return False, tr("工程部尚未验房", "engineering has not inspected")
    damages = e["data"].get("damages") or []
    if not damages:
        return True, tr("验房无损坏", "no damage found")
    charged = [l for l in ctx.settled_lines() if l["code"] == "damage"]
    if len(charged) < len(damages):
        return False, tr("%d 处损坏未在结算中赔偿", "%d damages not charged in the settlement") % (len(damages) - len(charged))
    total = sum(Decimal(d["amount"]) for d in damages)
    return True, tr("%d 处损坏已赔偿 %s 元", "%d damages compensated, %s yuan") % (len(damages), total)


@standard("6", "租有车位的，已办理车位退租", "Parking lease ended, where one was rented")
def parking_ended(ctx: Context):
    from wuye.moveout.partial import leases_covered, scope_of

    # The parking leases this case ends: those of the units leaving (or all, with the tenancy).
    scope = scope_of(ctx.case.id, ctx.case.info)
    leases = leases_covered(ctx.move_in, scope)
    if not leases:
        if scope.partial and ctx.move_in is not None and ctx.move_in.parking_spaces:
            return True, tr("所迁单元未租车位（其余车位随租户）", "no parking goes with the units leaving (the others stay with the tenant)")
        return True, tr("未租车位", "no parking rented")
    running = [p.space for p in leases if p.ended_on is None]
    done = tr("车位 %s 已于 %s 退租", "parking %s ended on %s")
    before = tr("；", "; ").join(done % (p.space, p.ended_on) for p in leases if p.ended_on is not None)
    if not running:
        return True, before
    spaces = tr("、", ", ").join(running)
    h = ctx.signed("handover")
    if h is None:
        return False, tr("待客服交接办理车位退租（%s）", "waiting for the handover to end the parking lease (%s)") % spaces
    if h["data"].get("parking_lease_terminated"):
        return True, tr("车位 %s 已退租", "parking %s ended") % spaces + (tr("；", "; ") + before if before else "")
    return False, tr("车位 %s 未退租（交接时 parking_lease_terminated 应为 true）",
                     "parking %s not ended (parking_lease_terminated must be true at handover)") % spaces


@standard("7", "客户顺利迁出大厦", "Tenant has moved out")
def moved_out(ctx: Context):
    r = ctx.signed(ctx.wf.closing.id)
    if r is None:
        return False, tr("待保安部放行", "waiting for security to release")
    return True, tr("放行条 %s，%s",
                    "release pass %s, %s") % (r["data"].get("release_pass_no", ""), r["signed_at"][:10])


def context(store, wf, case, compute_statement: Callable) -> Context:
    from wuye.archive import dossier as archive
    from wuye.models.archive import BY_KEY

    from wuye.moveout.partial import scope_of, view

    move_in, _ = archive.validate_file(store, case.tenant_id, BY_KEY["move_in"])
    # Counted as the case counts them: the units it moves out of (partial.py).
    return Context(store, wf, case, case.latest_steps(), view(move_in, scope_of(case.id, case.info)), compute_statement)


def evaluate(store, wf, case, compute_statement: Callable) -> list[dict]:
    ctx = context(store, wf, case, compute_statement)
    out = []
    for number, zh, en, fn in STANDARDS:
        met, detail = fn(ctx)
        out.append({"number": number, "title": tr(zh, en), "met": met, "detail": detail})
    return out


def unmet(store, wf, case, compute_statement: Callable, closing: bool = False) -> list[tuple[str, str]]:
    """The standards not met; before closing, all but the last (which closing itself makes true)."""
    rows = evaluate(store, wf, case, compute_statement)
    if closing:
        rows = rows[:-1]
    return [(f"{r['number']}. {r['title']}", r["detail"]) for r in rows if not r["met"]]
