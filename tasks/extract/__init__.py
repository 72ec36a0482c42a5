"""Extract stage: the bytes of one report -> its three tables as canonical cells.

Every input format is read into the same `Document` (prose lines and table tokens); one section
splitter and one label-driven aligner then serve HTML pages, text captures and Markdown tables.
"""
