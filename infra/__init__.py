"""Not Lambda code: local_stack, samples, commands, scenarios, sam, wix_sandbox (sub-packages)."""
