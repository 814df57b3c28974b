"""Pure business rules: no boto3, no sockets, no environment."""
