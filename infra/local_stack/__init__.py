"""A Docker-free stand-in for the deployed stack, wired by reading template.yaml.

The same handlers run in their own processes (as Lambda runs them), behind the template's HTTP API
routes and its DynamoDB stream subscriptions, against DynamoDB Local and the Wix sandbox. The AWS
pieces it emulates live here too: API Gateway events, DynamoDB Local, streams, event filtering.
"""
