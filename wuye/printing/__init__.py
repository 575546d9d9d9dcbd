"""Printed papers: the move-out's documents and a dossier summary, as HTML and PDF (A4, Chinese).

May import: wuye, models, storage, trust, archive, moveout, desk. Imported by the CLI only, and
only by `wuye print` / `wuye verify-print`: Jinja2, WeasyPrint and segno never load for a look-up.
"""
