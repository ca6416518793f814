"""Authentication: bearer tokens in, a Viewer out (an anonymous stand-in, never None)."""
