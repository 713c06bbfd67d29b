"""Rewards SQL by caller: wallets (ledger, balances), prizes, redemptions, funds."""
