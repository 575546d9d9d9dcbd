"""The store's own upkeep: creating a store (`create`), the generated schemas (`schema`), `doctor`.

May import: wuye.sync, wuye.transfer, wuye.verify and everything below them.
"""
