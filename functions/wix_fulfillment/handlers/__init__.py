"""Lambda entry points: translate the AWS event, call the core, translate the result."""
