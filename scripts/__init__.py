"""Herald's scripts: run them with python scripts/<name>.py."""
