"""Everything that runs the stack and is not Lambda code: local DynamoDB, events, keys, tooling."""
