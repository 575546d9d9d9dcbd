"""Storage: the store on disk and in git, below every service.

Finding a store, its lock, staging and atomic writes (`store`), the one git runner and the commit
plumbing (`git`), reading and writing YAML (`yamlio`, `fastyaml`), the store layout, and the derived
caches under `.git/wuye/` (`cache`). Nothing here knows what a tenant, a case or a signature means.

May import: wuye.models, wuye.errors, wuye.i18n.
"""
