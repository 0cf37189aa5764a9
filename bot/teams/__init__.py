"""Teams: who belongs to which team and who manages it (from Slack channels), what Slack
says about each person, the team setup modal, and the welcome message."""
