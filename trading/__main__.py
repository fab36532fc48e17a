"""``python -m trading``; see ``trading.cli`` for the commands and exit codes.

A bot or worker says ``started`` (``trading.stages``, standard library only) before ``trading.cli`` and
everything it imports load, so interpreter start-up is the only stretch a deploy cannot see.
"""

import sys

from trading import stages

if __name__ == "__main__":
    role = stages.role_of(sys.argv[1:])
    if role is not None:
        stages.begin(role)
    from trading.cli import main

    sys.exit(main())
