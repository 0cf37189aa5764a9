"""Irritant hunting: report, route, triage, and tell the reporter what happened."""
