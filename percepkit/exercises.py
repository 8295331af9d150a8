"""Automatic checks for the notebooks' exercises.

Each ``check_*`` function takes the learner's answer, compares it with a reference
computed here, and either prints a short "correct" message or raises ``AssertionError``
saying what is off. Each section belongs to one notebook; the reference solutions live
next to the checks so the notebooks can show them (and CI can run them).
"""

from __future__ import annotations

__all__: list[str] = []

# --- 01 Why pixel losses blur ---------------------------------------------------------

# --- 02 Shift sensitivity -------------------------------------------------------------

# --- 03 What each layer sees ----------------------------------------------------------

# --- 04 Gram matrices and style -------------------------------------------------------

# --- 05 The combined objective --------------------------------------------------------

# --- 06 Pitfalls and the choice of network --------------------------------------------
