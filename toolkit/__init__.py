"""Model-free building blocks every app may use: JSON error responses and the no-store
decorator (`http`), FastAPI-shaped error schemas (`schemas`), throttle rates (`rates`), typed
environment readers (`env`), the async middleware base (`middleware`), the digest stored tokens
are kept under (`tokens`), the OpenAPI document's finishing (`openapi`), route declarations
(`routes`), and a worker's draining flag and start-up and shutdown hooks (`lifecycle`). Nothing
here imports an app, `project` or `server`."""
