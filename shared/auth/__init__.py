"""Credentials: upstream API keys (ingest) and bearer JWTs (everything else)."""
