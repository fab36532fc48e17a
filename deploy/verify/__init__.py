"""Verify: is what runs exactly what was committed?

run            the procedure and its report: every point against the commit, every check; the release's
               side (`Expected`) read once, ahead of a deploy's switch
reference      what it compares with: the commit from git, else the release record on the engine
points         reading one point (image, container, imported modules, heartbeat, processes) through the engine
looks          each service container's reads, once, and their checks
codecompare    comparing file maps (pure)
provenance     where the release came from: the code layer and the recorded image (pure)
configuration  each container's config-hash against the commit's compose file
drift          what `docker update` and `network connect` changed (pure)
deployment     around the containers: the image as a whole, every container of the project, who writes the state
checks         checks of a running container (inspect data, and what verify's side container found)
processes      what runs in a container, judged: every process accounted for, importing only image code
"""

from deploy.verify.run import Expected, VerifyReport, ahead, output, render, still_runs, verify

__all__ = ["Expected", "VerifyReport", "ahead", "output", "render", "still_runs", "verify"]
