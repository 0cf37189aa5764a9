"""Symmetry: the domain and the running program.

One package per capability (`teams`, `irritants`, `pulse`, and the `home_tab` that shows
them), one for the running program (`runtime`: app factory, server, CLI, clock, delivery,
configuration), one for shared helpers (`shared`), and `demo` with the simulated Slack it
ships; `templates/` and `locale/` hold Block Kit and translations.
"""
