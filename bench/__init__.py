"""Benchmarks over a generated dataset (see bench/generate.py).

They sign their own member tokens and start servers outside dev mode, which refuse the
public development secret: unless the caller set one, every benchmark process (and the
servers it starts, which inherit the environment) shares a random secret for the run.
"""

import os
import secrets

os.environ.setdefault("CHAINGATE_SECRET", secrets.token_urlsafe(48))
