"""Test-wide settings: verify the graph after every pass."""

from __future__ import annotations

import os

os.environ.setdefault("EDGECC_VERIFY_EACH", "1")
