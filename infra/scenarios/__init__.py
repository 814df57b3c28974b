"""Whole-stack runs on this machine: ``make demo`` and ``make chaos``."""
