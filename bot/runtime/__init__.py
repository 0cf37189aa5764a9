"""The running program: the app factory, the HTTP server, the command line, the clock,
the delivery of the outbox, configuration and the services listeners share."""
