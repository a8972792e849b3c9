"""The load test and the dashboard benchmark: real gunicorn processes driven by Locust users run
headless in a process of their own, with what the server accepted checked in the database.

- server: gunicorn (and a Celery worker when there is a broker) on a scratch database.
- data: the simulated sellers, their store accounts, cases and ready-made sessions.
- locustfile: what the Locust users do (a seller's loop; the benchmark's phases).
- locust: runs Locust, reads its statistics and measures its CPU beside the server's.
- outcomes: what the server's answers said it accepted, handed back by the Locust process.
- verify: every request the server accepted is in the database, exactly once.
- bench: the dashboard's page weight and an in-process profile.
"""
