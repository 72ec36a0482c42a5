"""The facts of the national template (spec `docs/template.md`), one module per kind of fact.

* `codes`   -- canonical codes: template versions, sections, tables, flags, check ids.
* `layouts` -- which rows and columns each table has in each template version.
* `labels`  -- the printed labels (and the variants seen in real reports) that map to codes.
* `units`   -- unit suffixes and their factors to the canonical unit.
"""
