"""SAM CLI tooling: ``sam build`` and its check, and what ``sam local invoke`` is given."""
