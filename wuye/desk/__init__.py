"""The service desk (客户服务): complaints, repairs, notices, surveys and the monthly reports.

May import: wuye.moveout, wuye.archive, wuye.trust, wuye.storage, wuye.models, wuye.errors, wuye.i18n.
"""
