"""Numbered schema migrations; ``registry.store.migrate`` applies them in order."""
