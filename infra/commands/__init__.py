"""Operator commands, run as ``wix-fulfillment <command>`` (see ``cli.py``)."""
