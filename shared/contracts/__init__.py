"""Event contracts shared by every service: event models and the topic registry."""
