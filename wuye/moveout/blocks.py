"""Recorded checks that hold a move-out back (`blocks_when` in workflows/moveout.yaml).

A bool field may say `blocks_when: false`: the step records the fact as found (security writes
「消防设施完好: 否」 and signs it; `must_be` would instead refuse the truth), and the case cannot go
on past it: no step that needs this step is signed, and the closing step (release) is not signed,
while the latest entry of the step records that value. A later corrected entry (`sign STEP
--correct`) recording the other value, once the equipment is repaired or paid for, lifts the block;
the entries signed after it name that correction's digest in their `needs`.

This mirrors how the renovation kept at handover works: the workflow records the fact, a rule in
the signed workflow data says what follows from it, and finance, who signs the settlement, never
has to remember it. The block is on the settlement (which needs the security inspection) and so on
everything after it, not a damage line: what fire equipment costs to repair is not known when it is
found broken, and guessing a figure into a signed statement is worse than waiting for it. Finance
charges the repair, once known, with `settle --charge`.

verify judges the same rule from the signed entries (`problems`): an entry whose `needs` name a
blocking entry, or a closing entry signed while the latest revision of a step blocks, is reported
(`case.blocked-signed`), so a settlement signed despite the block, by a hand-made entry or an older
wuye, does not pass. This module only reads a case; cases.py calls it when signing and verifying.
"""

from __future__ import annotations

from wuye.errors import Problem, WuyeError
from wuye.i18n import tr


def blocking_fields(wf, step: str, data: dict) -> list:
    """The FieldSpecs of `step` whose value in `data` is the one that blocks."""
    spec = wf.entry_spec(step)
    if spec is None:
        return []
    return [f for f in spec.fields if f.blocks_when is not None and data.get(f.name) is f.blocks_when]


def _field_title(f) -> str:
    return tr(f.title, f.title_en or f.name)


def _value(v: bool) -> str:
    return tr("是", "yes") if v else tr("否", "no")


def refuse(wf, case, step: str) -> None:
    """Refuse signing `step` while an entry it needs (or, for the closing step, any step's latest
    entry) records a blocking value; the message names the step, the field and what lifts it."""
    from wuye.trust.staff import dept_label

    spec = wf.entry_spec(step)
    if spec is None:
        return
    looked = list(spec.needs)
    if spec.closes:
        looked += [s for s in wf.order if s not in looked]
    for s in looked:
        latest = case.latest(s)
        if latest is None:
            continue
        for f in blocking_fields(wf, s, latest.data.get("data") or {}):
            raise WuyeError(tr(
                "「%s」记录了%s：%s（%s: %s，%s），在更正为「%s」之前，「%s」不能签字；请%s更正（wuye moveout sign %s %s --correct）"
                % (wf.title(s), _field_title(f), _value(f.blocks_when), f.name, str(f.blocks_when).lower(), latest.file,
                   _value(not f.blocks_when), wf.title(step), "、".join(dept_label(d) for d in wf.steps[s].signers), case.id, s),
                "%s records %s: %s (%s: %s, %s); %s cannot be signed until a corrected entry records %s "
                "(wuye moveout sign %s %s --correct, by %s)"
                % (s, _field_title(f), _value(f.blocks_when), f.name, str(f.blocks_when).lower(), latest.file, step,
                   str(not f.blocks_when).lower(), case.id, s, ", ".join(wf.steps[s].signers))))


def problems(wf, case) -> list[Problem]:
    """Entries signed past a block, as verify reports them."""
    out: list[Problem] = []
    by_digest = {e.digest: e for e in case.entries}

    def report(entry, blocker, f) -> None:
        out.append(Problem(entry.rel, tr("签字时「%s」（%s）记录了 %s: %s，此时不能签此步骤；应先更正该步骤",
                                         "signed while %s (%s) recorded %s: %s, which holds this step back; that step is corrected first")
                           % (blocker.step, blocker.file, f.name, str(f.blocks_when).lower()), code="case.blocked-signed"))

    for e in case.entries:
        for digest in (e.data.get("needs") or {}).values():
            dep = by_digest.get(digest)
            if dep is not None:
                for f in blocking_fields(wf, dep.step, dep.data.get("data") or {}):
                    report(e, dep, f)
    closing = case.latest(wf.closing.id)
    if closing is not None:
        for s in wf.order:
            latest = case.latest(s)
            if latest is None or any(n == latest.digest for n in (closing.data.get("needs") or {}).values()):
                continue  # already reported above
            for f in blocking_fields(wf, s, latest.data.get("data") or {}):
                report(closing, latest, f)
    return out
