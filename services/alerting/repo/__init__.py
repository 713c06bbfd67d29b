"""Stores of the alerting tables, one module per caller; none of them commits."""
