"""Rewards rules (domain.md §7): pure values in, values out; no session, broker or clock."""
