"""The development data: the dev site's keys and seed orders, and Wix's way of signing webhooks."""
