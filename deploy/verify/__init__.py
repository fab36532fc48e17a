"""Verify: is what runs exactly what was committed?

report       the procedure and its report: every point against the commit, every check
points       reading one point (image, container, imported modules) from the engine
codecompare  comparing file maps (pure)
checks       checks of a running container (inspect data, and what one exec inside found)
inside       the script that exec runs in the container (its processes, a root write, its heartbeat)
"""

from deploy.verify.run import VerifyReport, output, render, still_runs, verify

__all__ = ["VerifyReport", "output", "render", "still_runs", "verify"]
