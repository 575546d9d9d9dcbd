"""Move-out (客户迁出): the workflow as data, cases and their signed entries, settlement, standards.

`workflow` loads and checks the procedure, `cases` opens cases and signs steps, `settlement`
computes the statement, `standards` judges the seven management standards.

May import: wuye.archive, wuye.trust, wuye.storage, wuye.models, wuye.errors, wuye.i18n.
"""
