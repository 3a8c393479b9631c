"""Local development: the embedded defaults, DEBUG only when asked for."""

from .base import *  # noqa: F403
