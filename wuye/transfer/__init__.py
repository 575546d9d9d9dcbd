"""Transfers: batch import of old ledgers and record sheets, and export.

May import: wuye.verify, wuye.desk, wuye.moveout, wuye.archive, wuye.trust, wuye.storage,
wuye.models, wuye.errors, wuye.i18n. Not wuye.sync: the two are independent.
"""
