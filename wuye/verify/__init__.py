"""Verification: is the whole store what it claims to be?

Checking reads every kind of record (archive files, cases, staff, history), so it sits above the
services it checks and below the ones that run it (sync, the central hook, doctor, the CLI).

May import: wuye.desk, wuye.moveout, wuye.archive, wuye.trust, wuye.storage, wuye.models,
wuye.errors, wuye.i18n.
"""
