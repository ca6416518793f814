"""The `chaingate` command line: migrate, serve, seed the demo, issue dev tokens, export the schema."""
