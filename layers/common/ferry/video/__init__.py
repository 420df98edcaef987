"""Video tasks (DESIGN §5): the unified create/query API, provider adapters, and the steps of the
Step Functions workflow that submits, polls, stores the result and notifies."""
