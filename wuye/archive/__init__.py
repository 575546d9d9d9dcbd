"""The tenant archive (客户档案): the twelve categories of a dossier, adding, checking, showing, searching.

`dossier` opens dossiers, adds records and finds tenants; `privacy` masks personal data on screen.

May import: wuye.trust, wuye.storage, wuye.models, wuye.errors, wuye.i18n.
"""
