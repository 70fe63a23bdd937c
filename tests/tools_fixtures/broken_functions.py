"""A ``--functions`` file that fails while it is imported."""

from __future__ import annotations

raise RuntimeError("this file refuses to load")
