"""x86 schedule templates (registered on import), tried before the generic ones."""

from edgecc.schedules.x86 import conv2d, dense  # noqa: F401 - registers
