"""Wix "Order Approved" webhooks in, Wix order fulfillments out.

Three kinds of module, kept apart so each question has one place to look:
``handlers`` (Lambda entry points, thin), ``core`` (pure rules, no I/O) and
``adapters`` (one module per outside system).
"""
