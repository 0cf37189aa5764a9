"""The running program: the app factory, the HTTP server, the command line, the clock,
the delivery of the outbox, configuration and the services listeners share."""

# The garbage collector's thresholds in every `symmetry` process (Python's: 700, 10, 10), set
# by `cli.main` as it starts and again by each web worker (`server.GunicornServer.load`).
# - Start-up: loading a command's modules makes about 100,000 objects that live as long as
#   the process, and at 700 allocations the collector went over them again and again while
#   they loaded (8% of an empty `symmetry tick`'s CPU).
# - Web worker: reference counting frees a request's objects as soon as it is done; what a
#   young collection scans is what is still alive, mostly the requests in flight (a listener
#   waiting on Slack holds its request, context and payloads), so its cost hardly depends on
#   how often it runs. At 700 allocations, `/irritant` at 20 clients collected every 16
#   commands, and the middle generation every 160 in passes of up to 47 ms that stopped every
#   request in flight (bench/profile_ack.py, GC pauses: 330 ms in all per 2,000 commands; with
#   these thresholds, one pass of 5-28 ms).
GC_THRESHOLDS = (20_000, 10, 10)
