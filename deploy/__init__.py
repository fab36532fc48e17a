"""The deployment pipeline as a library, one folder per layer (the README's "Architecture" section).

Importing `deploy` keeps the Docker SDK from importing paramiko when `DOCKER_HOST` is not an
`ssh://` address: the SDK imports it for its ssh transport whatever the address, and an `ssh://`
engine is reached through the system's `ssh` client anyway (`deploy.engine.client`). A `None` in
`sys.modules` makes `import paramiko` fail, which the SDK expects when paramiko is not installed.
Decided once per process, from the environment it started with.
"""

import os
import sys

if not os.environ.get("DOCKER_HOST", "").startswith("ssh://"):
    sys.modules.setdefault("paramiko", None)  # type: ignore[arg-type]
