"""Garden rules (domain.md §5–7): pure values in, values out; no session, broker or clock."""
