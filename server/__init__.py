"""What runs the process: uvicorn's protocol with bounds on request heads (`protocol`), the ASGI
layer around Django (`application`), `python -m server.serve` (what `make run` runs), draining on
SIGTERM (`draining`), the metrics directory of worker processes and the log formatters."""
