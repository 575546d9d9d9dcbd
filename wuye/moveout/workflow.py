"""Loading a store's move-out procedure and checking that it is a sound graph.

`workflows/moveout.yaml` is validated by `models.workflow.WorkflowFile`; the graph checks that
pydantic cannot express (unknown or duplicate steps, a step needing an unknown step, cycles, no
single starting step) are done here, each located at its line in the file, so a building that
edits its procedure is told exactly where it went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from wuye.storage import yamlio
from wuye.errors import Problem, WuyeError
from wuye.i18n import tr
from wuye.models.workflow import AMEND, APPROVE, AMEND_PAYOUT, CANCEL, FieldSpec, StepSpec, WorkflowFile, step_data_model
from wuye.storage import layout
from wuye.storage.store import Store

WORKFLOW = layout.WORKFLOW


@dataclass
class Workflow:
    spec: WorkflowFile
    order: list[str]  # topological: every step after the steps it needs
    _models: dict = field(default_factory=dict)

    @cached_property
    def steps(self) -> dict[str, StepSpec]:
        return {s.id: s for s in self.spec.steps}

    @property
    def first(self) -> StepSpec:
        return next(s for s in self.spec.steps if not s.needs)

    @property
    def closing(self) -> StepSpec:
        return next((s for s in self.spec.steps if s.closes), self.steps[self.order[-1]])

    @cached_property
    def cancel(self) -> StepSpec:
        """The cancellation as a step of its own, outside the graph: signed by the workflow's
        `cancel.signers`, needing nothing (it seals every entry before it instead), recording the
        reason. Being a StepSpec, its entry is judged by the very checks of a step's entry."""
        c = self.spec.cancel
        return StepSpec(id=CANCEL, title=c.title, title_en=c.title_en, signers=c.signers, needs=[],
                        fields=[FieldSpec(name="reason", type="text", title="撤销原因", title_en="reason", required=True)])

    @cached_property
    def amendment(self) -> StepSpec:
        """The amendment of a closed case as a step of its own, outside the graph: signed by the
        workflow's `amend.signers` after the closing entry, needing the settlement and the closing
        entry (their digests: what it amends), recording the corrected statement, the balance it
        corrects and the difference line by line (moveout/amendment.py computes them)."""
        a = self.spec.amend
        line = [FieldSpec(name="code", type="text", title="类别", required=True),
                FieldSpec(name="item", type="text", title="项目", required=True),
                FieldSpec(name="source", type="text", title="来源", required=True)]
        return StepSpec(id=AMEND, title=a.title, title_en=a.title_en, signers=a.signers,
                        needs=[s.id for s in self.spec.steps if s.computed][:1] + [self.closing.id], fields=[
                            FieldSpec(name="reason", type="text", title="更正原因", title_en="reason", required=True),
                            FieldSpec(name="lines", type="list", title="更正后的结算明细", required=True,
                                      items=[*line, FieldSpec(name="amount", type="signed_money", title="金额", required=True)]),
                            FieldSpec(name="credits", type="money", title="应退合计", required=True),
                            FieldSpec(name="charges", type="money", title="应扣合计", required=True),
                            FieldSpec(name="balance", type="signed_money", title="更正后结余", required=True),
                            FieldSpec(name="amends_balance", type="signed_money", title="原签结余", required=True),
                            FieldSpec(name="difference", type="signed_money", title="差额（正数退还，负数应补）", required=True),
                            FieldSpec(name="changes", type="list", title="逐行差额", required=True, items=[
                                *line, FieldSpec(name="was", type="signed_money", title="原金额", required=True),
                                FieldSpec(name="now", type="signed_money", title="更正后金额", required=True),
                                FieldSpec(name="amount", type="signed_money", title="差额", required=True)]),
                        ])

    @cached_property
    def approval(self) -> StepSpec:
        """Management's approval of an amendment: needs the amendment (its digest), records the
        difference it lets take effect. Signed by a member other than the amender (amendment.py)."""
        a = self.spec.amend
        return StepSpec(id=APPROVE, title="更正审批", title_en="Amendment approved", signers=a.approvers, needs=[AMEND], fields=[
            FieldSpec(name="difference", type="signed_money", title="批准的差额", title_en="difference approved", required=True),
            FieldSpec(name="note", type="text", title="审批意见", title_en="note")])

    @cached_property
    def amendment_payout(self) -> StepSpec | None:
        """The refund an approved amendment gives, paid out and recorded as the payout step
        records one (its fields and signers), needing the approval; None without a payout step."""
        p = self.steps.get("payout")
        if p is None:
            return None
        return StepSpec(id=AMEND_PAYOUT, title="更正退款支付", title_en="Amendment refund paid out", signers=p.signers,
                        needs=[APPROVE], fields=p.fields)

    @property
    def cancel_blockers(self) -> list[str]:
        """The steps after whose signing a case can no longer be cancelled: the computed one (the
        settlement: money has been computed and signed by finance, and a refund or amount due may
        already be moving) and the closing one (the tenant has left, the units are vacant). Every
        step after the settlement needs it, so these two cover them."""
        return [s.id for s in self.spec.steps if s.computed or s.closes]

    def entry_spec(self, step_id: str) -> StepSpec | None:
        """The spec an entry named `step_id` is judged by: a step, the cancellation, an amendment
        or its approval, or None."""
        specials = {CANCEL: lambda: self.cancel, AMEND: lambda: self.amendment, APPROVE: lambda: self.approval,
                    AMEND_PAYOUT: lambda: self.amendment_payout}
        return specials[step_id]() if step_id in specials else self.steps.get(step_id)

    def step(self, step_id: str) -> StepSpec:
        if step_id not in self.steps:
            raise WuyeError(tr("未知步骤 %r；流程的步骤有：%s" % (step_id, "、".join(self.order)),
                               "unknown step %r; the steps are: %s" % (step_id, ", ".join(self.order))))
        return self.steps[step_id]

    def data_model(self, step_id: str):
        if step_id not in self._models:
            self._models[step_id] = step_data_model(self.entry_spec(step_id))
        return self._models[step_id]

    def separated_from(self, step_id: str) -> list[tuple[list[str], str]]:
        """(rule, other step) for every step that must be signed by someone other than whoever
        signs `step_id` (workflow `separate`; a group of three means all three differ)."""
        return [(group, other) for group in self.spec.separate if step_id in group
                for other in dict.fromkeys(group) if other != step_id]

    def title(self, step_id: str) -> str:
        s = self.entry_spec(step_id)
        return tr(s.title, s.title_en or s.title) if s else step_id


def graph_problems(spec: WorkflowFile, rel: str, text: str | None) -> tuple[list[Problem], list[str]]:
    """Problems of the step graph, located; and a topological order when there are none."""
    problems: list[Problem] = []

    def at(*loc):
        return yamlio.locate(text, loc) if text is not None else (None, None)

    ids = [s.id for s in spec.steps]
    for i, s in enumerate(spec.steps):
        if s.id in (CANCEL, AMEND, APPROVE, AMEND_PAYOUT):
            # steps/cancel.yaml is the cancellation's entry (amendment*.yaml an amendment's and its
            # approval's): a step of that name would be confused with it.
            problems.append(Problem(rel, tr("步骤编号 %s 留给撤销迁出或结案后更正使用，请改名", "the step id %s is kept for the cancellation or the amendment; rename the step") % s.id,
                                    *at("steps", i, "id"), code="workflow.invalid"))
        if ids.index(s.id) != i:
            problems.append(Problem(rel, tr("步骤 %s 重复", "step %s appears twice") % s.id, *at("steps", i, "id"), code="workflow.invalid"))
        for j, need in enumerate(s.needs):
            if need not in ids:
                problems.append(Problem(rel, tr("步骤 %s 需要未知步骤 %r", "step %s needs an unknown step %r") % (s.id, need),
                                        *at("steps", i, "needs", j), code="workflow.invalid"))
            elif need == s.id:
                problems.append(Problem(rel, tr("步骤 %s 不能需要自己", "step %s cannot need itself") % s.id, *at("steps", i, "needs", j), code="workflow.invalid"))
        names = [f.name for f in s.fields]
        for j, f in enumerate(s.fields):
            if names.index(f.name) != j:
                problems.append(Problem(rel, tr("步骤 %s 的字段 %s 重复", "step %s: field %s appears twice") % (s.id, f.name),
                                        *at("steps", i, "fields", j), code="workflow.invalid"))
            if f.type == "choice" and not f.choices:
                problems.append(Problem(rel, tr("choice 字段 %s 须列出 choices", "choice field %s needs choices") % f.name,
                                        *at("steps", i, "fields", j), code="workflow.invalid"))
            if (f.blocks_when is not None or f.must_be is not None) and f.type != "bool":
                problems.append(Problem(rel, tr("字段 %s：blocks_when 和 must_be 只用于 bool 字段", "field %s: blocks_when and must_be are for bool fields only") % f.name,
                                        *at("steps", i, "fields", j), code="workflow.invalid"))
            if f.type == "list" and not f.items:
                problems.append(Problem(rel, tr("list 字段 %s 须列出 items", "list field %s needs items") % f.name,
                                        *at("steps", i, "fields", j), code="workflow.invalid"))
    for i, group in enumerate(spec.separate):
        # A rule naming an unknown step would silently hold nothing: refused, like an unknown need.
        for j, sid in enumerate(group):
            if sid not in ids:
                problems.append(Problem(rel, tr("separate 中的步骤 %r 不在流程中", "separate names an unknown step %r") % sid,
                                        *at("separate", i, j), code="workflow.invalid"))
        if len(set(group)) < 2:
            problems.append(Problem(rel, tr("separate 的每一组须列出至少两个不同的步骤", "each group of separate lists at least two different steps"),
                                    *at("separate", i), code="workflow.invalid"))
    roots = [s.id for s in spec.steps if not s.needs]
    if len(roots) != 1:
        problems.append(Problem(rel, tr("流程须恰有一个起始步骤（needs 为空），现有：%s" % ("、".join(roots) or "无"),
                                        "the workflow needs exactly one first step (no needs); found: %s" % (", ".join(roots) or "none")),
                                *at("steps"), code="workflow.invalid"))
    if problems:
        return problems, []
    # Kahn's algorithm; what is left over sits on a cycle.
    needs = {s.id: set(s.needs) for s in spec.steps}
    order: list[str] = []
    ready = [s for s in ids if not needs[s]]
    while ready:
        step = ready.pop(0)
        order.append(step)
        for other in ids:
            if step in needs[other]:
                needs[other].discard(step)
                if not needs[other] and other not in order and other not in ready:
                    ready.append(other)
    left = [s for s in ids if s not in order]
    graph = {s.id: [n for n in s.needs if n in left] for s in spec.steps if s.id in left}
    for s in left:
        cycle = _cycle_through(s, graph)
        if cycle is None:
            continue  # it only waits on a cycle; the steps on the cycle are the ones reported
        i = ids.index(s)
        problems.append(Problem(rel, tr("步骤 %s 处在循环依赖中（%s，→ 表示“需要”）",
                                        "step %s is on a cycle (%s, → meaning \"needs\")") % (s, " → ".join(cycle)),
                                *at("steps", i, "needs"), code="workflow.cycle"))
    return problems, order


def _cycle_through(start: str, graph: dict[str, list[str]]) -> list[str] | None:
    """The shortest path of needs from `start` back to itself, or None if it is on no cycle."""
    parent: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for need in graph.get(node, []):
                if need == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if need not in parent:
                    parent[need] = node
                    nxt.append(need)
        frontier = nxt
    return None


def load(store: Store) -> Workflow:
    """The store's move-out workflow, refused with located problems when unsound."""
    try:
        data, text = store.read_data(WORKFLOW)
    except WuyeError as e:
        raise WuyeError(tr("迁出流程文件无法读取：\n", "the move-out workflow cannot be read:\n") + str(e), e.problems) from None
    return _parse(data, text)


def for_case(store: Store, chain, case) -> Workflow:
    """The workflow a case is judged by: the one of the authority version its entries name first
    (the lowest), so that a later change to the workflow never re-judges a case opened before it,
    and a case cannot be judged by rules signed after it was opened. Without a chain: the file's."""
    current = load(store)  # a broken workflow file stops every move-out command, as it says where
    if not chain.versions:
        return current
    named = [e.data.get("authority") for e in case.entries]
    named = [n for n in named if isinstance(n, int) and not isinstance(n, bool)]
    version = chain.at(min(named)) if named else chain.latest
    return at_version(store, version or chain.latest, current)


_BY_DIGEST: dict[tuple[str, str], Workflow] = {}


def at_version(store: Store, version, current: Workflow | None = None) -> Workflow:
    """The workflow of an authority version: the file when it is that one (by digest), else the
    file as it was in the commit that added the version, checked against the digest."""
    from wuye.storage import git as audit
    from wuye.trust.authority import file_digest

    want = version.record.workflow
    p = store.path(WORKFLOW)
    if p.is_file() and file_digest(p.read_bytes()) == want:
        return current if current is not None else load(store)
    key = (str(store.root), want)
    if key not in _BY_DIGEST:
        added = audit.read(store.root, ["log", "--diff-filter=A", "--format=%H", "--", version.rel], check=False) or ""
        commit = added.split()[-1] if added.split() else None
        blob = audit.run(store.root, "cat-file", "blob", f"{commit}:{WORKFLOW}", check=False, text=False) if commit else None
        raw = blob.decode("utf-8", "replace") if blob is not None else None
        if blob is None or file_digest(blob) != want:
            raise WuyeError(tr("找不到授权第 %d 版签署的流程文件（%s）", "the workflow signed by authority version %d (%s) cannot be found")
                            % (version.number, want), [Problem(version.rel, tr("找不到该版本签署的流程文件", "the workflow this version signed cannot be found"),
                                                               code="authority.workflow-mismatch")])
        _BY_DIGEST[key] = _parse(yamlio.loads(raw, WORKFLOW), raw)
    return _BY_DIGEST[key]


def _parse(data, text: str) -> Workflow:
    spec = yamlio.validated(WorkflowFile, data or {}, WORKFLOW, text)
    problems, order = graph_problems(spec, WORKFLOW, text)
    if problems:
        raise WuyeError("\n".join(str(p) for p in problems), problems)
    return Workflow(spec, order)
