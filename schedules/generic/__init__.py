"""Generic schedule templates, used when no target-specific template matches."""

from edgecc.schedules.generic import default  # noqa: F401 - registers
