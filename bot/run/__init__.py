"""Supervision for `scrollcheck run` (bot/runner.py), one job per module.

ports.py       is each port free on 127.0.0.1, and if not, which process holds it (/proc)
shim.py        the parent-death shim each service runs under: it dies with the runner, even on
               SIGKILL, and ends every process its service started
supervisor.py  start the services through the shim, restart one that dies with backoff, give up
               with the reason after too many restarts, stop them all within 10 s
liveness.py    the probes that find a service alive but no longer answering (the supervisor kills
               it, and restarts it as if it had died)
"""
