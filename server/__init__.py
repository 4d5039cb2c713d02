"""What runs the process: uvicorn's protocol with bounds on request heads (`protocol`), the ASGI
layer around Django (`application`, with each request's access log line and metrics in `access`),
`python -m server.serve` (what `make run` runs), draining on SIGTERM (`draining`), the metrics
directory of worker processes (`metrics_directory`), the log handler (`logging`) and the log
format (`log_format`).

It imports toolkit, fastpath and Django only, never an app or `project`: it sets the draining
flag readiness reads and runs the start-up and shutdown hooks the wiring registers, both in
toolkit.lifecycle; project.asgi puts Django's handler inside `application`."""
