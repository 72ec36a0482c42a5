"""Validate stage: the strict 勾稽 relations of spec §7.1, evaluated on one report."""
