"""One module per outside system (Wix webhooks, DynamoDB, configuration)."""
