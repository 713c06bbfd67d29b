"""The indicator library and tiers as versioned configuration (domain.md §3–5).

Every change stores a new version per center, in force from the center's next
unsettled business day (the day after its latest settled day, or every day
when none is settled yet), so a change never alters a settled day. Modules:
`schemas` (payloads), `rules` (validation, pure), `resolution` (stored
documents to the configuration in force, pure), `store` (SQL, never commits),
`routes` (the admin API).
"""
