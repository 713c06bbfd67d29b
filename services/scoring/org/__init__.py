"""The organisation (domain.md §1): center → department → team → agent, over time.

Units are upserted and, once removed from the tree, kept as inactive (history
references them). Where an agent sits is a membership valid on the days
[valid_from, valid_to), so an agent who moves team counts for the new team
from the move date. Modules: `schemas` (the tree payload), `plan` (validation
and the plan that turns a tree into changes, pure), `store` (reads and writes,
never commit), `routes` (the admin API).
"""
