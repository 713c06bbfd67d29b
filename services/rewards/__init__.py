"""The rewards service: wallets of fruit, the prize catalog, redemptions and reward funds."""
