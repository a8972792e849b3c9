"""The load test and the dashboard benchmark: real gunicorn processes driven by many simulated
sellers over raw HTTP/1.1 connections, with what the server accepted checked in the database.

- http: a small keep-alive HTTP/1.1 client on asyncio streams (127.0.0.1 only).
- stats: latencies and errors per endpoint, and the printed report.
- server: gunicorn (and a Celery worker when there is a broker) on a scratch database.
- data: the simulated sellers, their store accounts, cases and ready-made sessions.
- sellers: what one simulated seller does until the deadline.
- verify: every request the server accepted is in the database, exactly once.
"""
