"""Garden SQL by caller; nothing here commits (the handler or the request decides)."""
