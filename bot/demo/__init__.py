"""`symmetry demo`: a guided run of the real product against a simulated Slack workspace.

No network, no Slack account, no setting: a throwaway SQLite database is migrated, the real
`symmetry serve` process is started against `bot.demo.slack`, and a cast of simulated people
(French and English) play the scenes of `bot.demo.scenes` through signed HTTP requests, while
the narration says what each person did and what the bot answered. The clock is explicit: the
demo runs the real `symmetry tick --now INSTANT` at chosen instants (the server's own clock is
not touched): a January week, so welcomes are seen held to each person's working hours, then
the working day after today, so that irritants reported today reach the manager, are triaged,
and each reporter hears back, then the week of the next Tuesday, for a round of pulse surveys
(planned the day before, answered, reminded halfway, closed, its results shown or hidden),
then the first working day of the next quarter, for a sensory walk.

    runner.py    `run_demo`: sets the stage, plays the scenes, prints the summary
    slack/       the simulated Slack workspace (also the tests' fake Slack)
    stage.py     the temp directory, the database, the server process, the CLI
    harness.py   `symmetry serve` wired to the simulated Slack (also for the tests and bench/)
    cast.py      the simulated people and channels
    context.py   `Demo`, handed to every scene: moves, waits, display
    scenes.py    the story; append a `Scene` to `SCENES` to show a new feature
    irritant_scenes.py  its irritant part: report, route, triage, tell the reporter
    pulse_scenes.py     its pulse survey part: plan, answer, remind, close, results
    walk_scenes.py      its sensory walk part: prompt, walk, findings, expedition, results
    narrator.py  terminal output;  text.py  Block Kit as readable text
"""
