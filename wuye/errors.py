"""Errors as data.

Every refusal in wuye is a `WuyeError`, raised by a service and turned into exit code 1 by the
CLI alone. Validation does not stop at the first problem: it collects `Problem`s, each naming the
file (relative to the store) and, where there is one, the line and column, as yamllint and
beancount print them, so a clerk can open the file at the right place.

Each `Problem` also carries a stable `code` (`signature.bad`, `key.revoked`, ...), what scripts and
tests match on instead of the wording, which is bilingual and may be improved at any time. The
codes are listed once, in `CODES`, with a short title in both languages; a code not listed there
is refused when the Problem is made, so the table cannot fall behind, and no Problem is made
without one. A finding that has no kind
of its own gets the generic code of where it was found (`yaml.syntax`, `schema.invalid`, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

# code -> (zh, en) short title. Grouped by what finds them: reading files, schemas, verify's checks
# (settings, workflow, staff, units, archive, attachments, cases, history), doctor, import, sync.
CODES: dict[str, tuple[str, str]] = {
    # reading any store file (storage.yamlio)
    "file.unreadable": ("文件无法读取（不存在、是目录、过大、不是 UTF-8 文本）", "the file cannot be read (missing, a folder, too large, not UTF-8 text)"),
    "file.symlink": ("是符号链接（读取档案时从不跟随符号链接）", "a symbolic link (store files are never read through one)"),
    "file.not-regular": ("不是普通文件（设备、管道、套接字）", "not a plain file (a device, pipe or socket)"),
    "yaml.syntax": ("YAML 格式错误", "invalid YAML"),
    "yaml.forbidden": ("使用了不允许的 YAML 写法（锚点、别名、标签、控制字符、过深的嵌套）", "YAML the store does not allow (anchors, aliases, tags, control characters, deep nesting)"),
    "yaml.value": ("无法读取或写出的值（无效的日期或数字、非文本的键、重复的键、合并键、控制字符）", "a value that cannot be read or written (an invalid date or number, a key that is not text, a duplicate key, a merge key, a control character)"),
    "schema.invalid": ("内容不符合格式要求", "the content does not match its schema"),
    "schema.warning": ("内容可接受，但值得注意", "accepted content that deserves a look"),
    # verify: settings, workflow, staff, units, archive files
    "settings.invalid": ("wuye.yaml 无法使用", "wuye.yaml cannot be used"),
    "workflow.invalid": ("流程定义有误（重复、未知或自指的步骤，缺少选项）", "the workflow is wrong (a step repeated, unknown or needing itself, a field lacking choices)"),
    "workflow.cycle": ("流程中有循环依赖", "the workflow has a cycle"),
    "staff.invalid": ("员工文件无法使用", "a staff file cannot be used"),
    "staff.allowed-signers-mismatch": ("allowed_signers 与 staff/ 不一致", "allowed_signers does not match staff/"),
    "unit.id-mismatch": ("单元编号与文件名不符", "a unit's id does not match its file name"),
    "archive.tenant-mismatch": ("tenant_id 与目录名不符", "tenant_id does not match the folder"),
    "archive.not-mapping": ("档案文件应为映射", "an archive file must be a mapping"),
    "archive.profile-missing": ("缺少客户单位资料", "the profile is missing"),
    "attachment.missing": ("附件不存在", "an attachment is missing"),
    "attachment.outside": ("附件路径超出租户目录", "an attachment path leaves the tenant folder"),
    "attachment.digest": ("附件与登记的 sha256 不符", "an attachment does not match its sha256"),
    "attachment.type": ("附件不是 JPEG、PNG、PDF 或 HEIC 文件", "an attachment is not a JPEG, PNG, PDF or HEIC file"),
    # verify: the ledger's seals (trust.money, verify.money_check)
    "money.unsealed": ("金额记录没有财务签章", "a ledger item has no finance seal"),
    "money.seal-bad": ("金额记录的签章无效（签章后被改过、密钥无效或授权版本不符）", "a ledger item's seal is invalid (changed after sealing, a key not valid, or an unknown authority version)"),
    "money.sealer-not-allowed": ("签章人不得处理款项（财务部或管理层以外的员工只能签章未收款的应收项）", "the sealer may not handle money (outside finance and management only a charge with nothing received)"),
    "money.closing-bad": ("迁出结清的改动与案件签字的结算单不符", "a move-out closing's change does not match the case's signed statement"),
    # the store layout as an allow-list (storage.allowlist): verify, doctor and the central hook
    "layout.unknown-path": ("档案库结构中没有这个文件的位置", "a file the store's layout has no place for"),
    "layout.symlink": ("符号链接（档案库不收符号链接）", "a symbolic link (a store holds none)"),
    "layout.gitlink": ("子模块链接（档案库不收子模块）", "a submodule link (a store holds none)"),
    "layout.mode": ("文件模式不是普通文件（可执行或其他）", "a file mode other than a plain file (executable or other)"),
    "layout.gitattributes": (".gitattributes 中有 wuye 以外的行", ".gitattributes holds lines other than wuye's own"),
    "layout.too-large": ("档案文件超过 1 MiB", "a store file over 1 MiB"),
    "layout.attachment-too-large": ("附件超过设定的大小上限", "an attachment over the configured size cap"),
    # verify: the authority chain (trust.authority, verify.authority_check)
    "authority.missing": ("没有授权链", "there is no authority chain"),
    "authority.invalid": ("授权记录无法使用", "an authority record cannot be used"),
    "authority.numbering": ("授权版本号不连续或与文件名不符", "authority versions skip a number or do not match their file names"),
    "authority.root-invalid": ("根版本有误", "the root version is wrong"),
    "authority.root-mismatch": ("根指纹与本处固定的不符", "the root fingerprint is not the one pinned here"),
    "authority.root-unpinned": ("本处尚未固定根指纹", "the root fingerprint is not pinned here"),
    "authority.chain-broken": ("授权链断开或分叉", "the authority chain is broken or forked"),
    "authority.threshold": ("授权版本缺少足够的管理层签名", "an authority version lacks enough management signatures"),
    "authority.staff-unlisted": ("员工文件不在授权链中", "a staff file is not in the authority chain"),
    "authority.staff-mismatch": ("员工文件与授权链不符", "a staff file differs from the authority chain"),
    "authority.staff-missing": ("授权链中的员工文件缺失", "a staff file of the authority chain is missing"),
    "authority.workflow-mismatch": ("流程文件与授权链不符", "the workflow file differs from the authority chain"),
    "authority.settings-mismatch": ("收费标准、单价或折算规则与授权链不符", "fees, rates or the proration rule differ from the authority chain"),
    "entry.authority-unknown": ("条目所依据的授权版本不存在", "an entry names an authority version that does not exist"),
    "entry.authority-missing": ("授权链建立后提交的条目未注明授权版本", "an entry committed after the chain began names no authority version"),
    "entry.before-authority": ("签字时间早于所依据的授权版本", "signed before the authority version it names"),
    "entry.signed-after-commit": ("签字时间晚于载入它的提交", "signed later than the commit that brought it in"),
    "entry.signed-after-receipt": ("签字时间晚于中央仓库收到它的时间", "signed later than the central repository received it"),
    "entry.after-revocation": ("条目在其密钥被吊销或更换之后才提交", "an entry committed after its key was revoked or rotated"),
    "history.authority-modified": ("授权记录在某次提交中被改动或删除", "an authority record was modified or deleted in a commit"),
    # verify: move-out cases and their signed entries (moveout.cases)
    "case.id-mismatch": ("案件编号或租户与目录不符", "a case's id or tenant does not match its folder"),
    "case.duplicate-id": ("同一案件编号用于两个租户", "one case id used by two tenants"),
    "case.incomplete": ("案件已结案但有步骤未签字", "a closed case has unsigned steps"),
    "case.balance-unmoved": ("案件已结案但结算款未收付（退款未付、应补款未收也未核销）", "a closed case's balance was never paid out, received or written off"),
    "case.blocked-signed": ("在记录的检查结果暂停流程时签了后续步骤（如消防设施不完好时结算或放行）", "a step signed while a recorded check held the case back (settled or released with fire equipment not OK)"),
    "case.not-closed": ("结案步骤已签但案件未结案", "the closing step is signed but the case is not closed"),
    "entry.file-name": ("条目文件名有误或与内容不符", "an entry's file name is malformed or does not match it"),
    "entry.misplaced": ("条目放在别的案件下", "an entry sits in another case's folder"),
    "entry.not-mapping": ("签字条目应为映射", "a step entry must be a mapping"),
    "entry.not-canonical": ("条目含有无法规范化的值", "an entry holds values that cannot be canonicalised"),
    "entry.attachment-missing": ("条目签入的附件不存在或不是普通文件", "a file signed with an entry is missing or not a plain file"),
    "entry.attachment-digest": ("条目签入的附件与签字时的 sha256 不符", "a file signed with an entry does not match the sha256 signed"),
    "entry.attachment-outside": ("条目签入的附件不在本案件的附件目录中", "a file signed with an entry is outside its case's attachment folder"),
    "entry.unknown-step": ("流程中没有这个步骤", "the workflow has no such step"),
    "signature.missing": ("条目没有签名", "an entry has no signature"),
    "signature.bad": ("签名无效（内容在签名后被改动）", "an invalid signature (changed after signing)"),
    "signer.unknown": ("签字人无法确认", "the signer cannot be established"),
    "key.not-signer": ("签名所用密钥不是签字人的", "signed with a key that is not the signer's"),
    "key.not-valid-at": ("签字时密钥不在有效期内（已吊销或尚未生效）", "the key was not valid at signing time (revoked or not yet valid)"),
    "dept.not-member": ("签字人不属于所称的部门", "the signer is not in the department claimed"),
    "dept.not-allowed": ("该部门不能签此步骤", "the department may not sign the step"),
    "dag.needs-mismatch": ("needs 与流程不符", "needs are not the workflow's"),
    "dag.needs-unknown": ("needs 的摘要与任何条目都不符（被删除或改动）", "a needs digest matches no entry (deleted or changed)"),
    "dag.order": ("签字时间早于其前置步骤", "signed before a step it needs"),
    "correction.missing": ("更正链缺少一版", "a revision of the correction chain is missing"),
    "correction.supersedes": ("supersedes 与上一版的摘要不符", "supersedes does not match the revision before"),
    "case.unsealed": ("结案或撤销条目没有封存案件的条目", "the closing entry or the cancellation seals none of the case's entries"),
    "case.sealed": ("已结案封存的案件中有未封存的条目（结案后追加）", "an entry the closing entry does not seal (added to a closed case)"),
    "case.cancelled": ("已撤销的案件中有撤销条目未封存的条目（撤销后签字）", "an entry the cancellation does not seal (signed in a cancelled case)"),
    "case.cancel-too-late": ("结算或结案签字之后又撤销", "a cancellation after the settlement or the closing step was signed"),
    "case.cancel-unsigned": ("case.yaml 标为已撤销，但没有签字的撤销条目", "case.yaml says cancelled, but no cancellation is signed"),
    "case.not-cancelled": ("撤销条目已签，但 case.yaml 未标为已撤销", "a cancellation is signed, but case.yaml does not say cancelled"),
    "case.seal-broken": ("封存的条目被替换或删除", "a sealed entry was replaced or deleted"),
    # amendments of a closed case (moveout.amendment)
    "amendment.unapproved": ("结案后的更正尚待管理层批准（差额尚未生效）", "an amendment of a closed case awaits management's approval (its difference has not taken effect)"),
    "amendment.self-approved": ("结案后的更正由更正人自己批准", "an amendment approved by the member who signed it"),
    "amendment.not-management": ("更正审批不是管理层签的", "an amendment's approval not signed by management"),
    "amendment.unsigned": ("结案后的更正或其审批没有有效签名（用 git 直接加入？）", "an amendment or its approval without a valid signature (added with plain git?)"),
    "amendment.effect-missing": ("经批准的更正应补款不在缴费记录中", "the amount due by an approved amendment is missing from payments.yaml"),
    "amendment.mismatch": ("更正的结算单、所更正的结余或差额与重新计算的不符", "an amendment's statement, the balance it corrects or its difference differs from the one recomputed"),
    "separation.same-signer": ("须由不同的人签字的两个步骤由同一人签字", "one person signed two steps that must be signed by different people"),
    # verify: settlement statements against the archive they were computed from (verify.statements)
    "statement.mismatch": ("结算单与当时档案重新计算的结果不符", "a statement differs from the one recomputed from the archive of its time"),
    "statement.sum": ("结算单各行之和与合计、结余不符", "a statement's lines do not add up to its totals and balance"),
    "statement.unreproducible": ("无法按当时的档案重新计算结算单", "a statement cannot be recomputed from the archive of its time"),
    "statement.cited-changed": ("结算单引用的档案记录在结算后被改动", "a record a statement cites was changed after settling"),
    # verify: git history
    "history.entry-modified": ("已签字的条目在某个提交中被改动", "a signed entry was modified in a commit"),
    "history.entry-deleted": ("已签字的条目在某个提交中被删除", "a signed entry was deleted in a commit"),
    "history.type-changed": ("签字条目或案件文件的类型或权限在某个提交中被改变（如换成符号链接）", "a signed entry's or case file's type or mode was changed in a commit (a symlink, say)"),
    "history.case-changed": ("case.yaml 在某个提交中被改动，而不是由结案改动", "a case.yaml was changed in a commit other than as closing changes it"),
    "history.head-rewritten": ("历史被改写（上次校验的提交不再是祖先）", "history was rewritten (the last verified commit is no ancestor)"),
    # verify: the central repository's push receipts (trust/receipts.py, verify/receipts_check.py)
    "receipt.malformed": ("推送回执无法读取", "a push receipt cannot be read"),
    "receipt.signature": ("推送回执不是固定的中央仓库密钥所签", "a push receipt not signed by the pinned central key"),
    "receipt.chain": ("推送回执链断裂", "the chain of push receipts is broken"),
    "receipt.head-missing": ("回执见证的提交不在本地历史中", "a head a receipt witnessed is not in the local history"),
    "receipt.head-rewritten": ("回执见证的提交不再在分支上（历史被改写）", "a head a receipt witnessed is no longer on the branch (history rewritten)"),
    "receipt.unpinned": ("有推送回执，但未固定中央仓库的公钥", "push receipts, but no central key pinned to check them"),
    "verify.failed": ("校验无法进行", "verification could not run"),
    # doctor
    "doctor.journal": ("有一个中断的修改", "an interrupted change"),
    "doctor.journal-damaged": ("中断修改的记录已损坏", "the record of an interrupted change is damaged"),
    "doctor.git-lock": ("残留的 git 锁文件", "a stale git lock file"),
    "doctor.git-lock-busy": ("git 正在运行，锁文件在用", "git is running and holds its lock"),
    "doctor.temp-file": ("被中断的命令留下的临时文件", "a temp file left by an interrupted command"),
    "doctor.uncommitted": ("未提交或未跟踪的文件", "an uncommitted or untracked file"),
    "doctor.merge": ("有一个未完成的 git 合并", "a git merge is in progress"),
    "doctor.detached-head": ("HEAD 游离", "a detached HEAD"),
    "doctor.keys-in-store": ("密钥目录在档案库之内", "the key folder is inside the store"),
    "doctor.key-mode": ("私钥或密钥目录权限过宽", "a private key or key folder other users can read"),
    "doctor.private-key": ("档案库中有私钥文件", "a private key file in the store"),
    "doctor.private-key-committed": ("已提交的文件中含有私钥", "a committed file holds a private key"),
    "doctor.busy": ("另一个 wuye 命令正在写入", "another wuye command is writing"),
    "doctor.packing": ("git 后台整理失败", "git's background packing failed"),
    "doctor.key-exposed": ("私钥可能已被别人读到，须换新", "a private key may have been read: rotate it"),
    "doctor.access-log-broken": ("本机访问日志的链条断了（有记录被删改）", "the access log's chain is broken (a line deleted or changed)"),
    "doctor.access-log-unchained": ("访问日志的开头几行写于加链之前", "the access log's first lines predate its chain"),
    # import, export and sync
    "import.invalid": ("导入的数据有误", "the imported data is wrong"),
    "import.note": ("导入时略过的内容", "something import passed over"),
    "sync.conflict": ("两处的改动无法合并", "changes made in two places that cannot be merged"),
    "sync.signed-twice": ("两处签了同一条目或开了同一案件", "an entry signed, or a case opened, in two places"),
    "sync.conflict-markers": ("合并结果中留有冲突标记", "the merge leaves conflict markers"),
}


@dataclass(frozen=True)
class Problem:
    """One finding: where (file, line, column), what (a bilingual message and a stable code from
    `CODES`), with its level."""

    path: str
    message: str
    line: int | None = None
    col: int | None = None
    level: str = "error"  # "error" refuses; "warning" is shown and accepted
    # Given by name, and always: a default would label every finding that forgot one as the
    # commonest kind, and a script matching on codes would be misled without anyone noticing.
    code: str = field(kw_only=True)

    def __post_init__(self) -> None:
        # Refused here, not found later by a test: a code missing from CODES is a typo or an
        # undocumented kind, and scripts matching on codes would silently miss it.
        if self.code not in CODES:
            raise ValueError(f"unknown problem code {self.code!r}: add it to wuye.errors.CODES")

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where += f":{self.line}"
            if self.col is not None:
                where += f":{self.col}"
        tag = "" if self.level == "error" else f"[{self.level}] "
        return f"{where}: {tag}{self.message}"

    def to_json(self) -> dict:
        return {
            "code": self.code,
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "level": self.level,
            "message": self.message,
        }


@dataclass
class WuyeError(Exception):
    """A refusal: bad input, a guard not met, a failed verification, something not found.

    `message` says what happened and what to do; `problems` lists every finding behind it.
    """

    message: str
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message


def errors_only(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.level == "error"]
