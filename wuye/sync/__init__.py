"""Between offices: `wuye sync`, the merge driver git runs, and the central repository.

May import: wuye.verify, wuye.desk, wuye.moveout, wuye.archive, wuye.trust, wuye.storage,
wuye.models, wuye.errors, wuye.i18n. Not wuye.transfer: the two are independent.
"""
