"""Fetch stage: discovery on listing pages, a polite async HTTP fetcher, and the raw store."""
