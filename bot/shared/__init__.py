"""Helpers every capability uses: Block Kit rendering, translations, working time,
pseudonymous hashes."""
