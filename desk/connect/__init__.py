"""Connecting accounts: stored credentials, business-account token renewal, OAuth state, and
the consent flows that end in a stored connection."""
