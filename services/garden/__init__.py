"""The garden service: plants that grow from settled scores, fruit, harvests and leaderboards."""
