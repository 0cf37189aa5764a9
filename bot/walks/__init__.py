"""Quarterly sensory walks: the prompt, the walk itself, its findings and results."""
