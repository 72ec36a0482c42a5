"""Normalise stage: printed cell text -> typed value + flags (spec §8.3)."""
