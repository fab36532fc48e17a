# One image for the bot and the worker. Built by `invoke build` from the committed
# tree only (Dockerfile + trading/), never from the working tree.
# BASE_IMAGE: python:3.11-slim where a registry is reachable; `./bootstrap` builds
# tradebot-base:bookworm offline where none is.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Runtime user and state directory first: this layer survives every code change. The code is found
# through a .pth file in the interpreter's own site-packages: every Python here runs isolated
# (`python3 -I`: no working directory, script directory, PYTHON* variable or user site on the import
# path), so nothing the runtime user writes (the state volume, /tmp) can ever be imported, and /app
# comes after the standard library, so nothing in it shadows the standard library either.
# procps gives `ps`: for an operator in `docker exec`, and for testinfra's `host.process`, with which
# the tests check what verify reads (verify itself lists /proc from a side container: deploy/engine/scripts/inside.py).
RUN set -eu; \
    if ! command -v ps >/dev/null; then \
        apt-get update && apt-get install -y --no-install-recommends procps && rm -rf /var/lib/apt/lists/*; \
    fi; \
    groupadd --system --gid 10001 tradebot; \
    useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin tradebot; \
    install -d -o 10001 -g 10001 -m 0750 /var/lib/tradebot; \
    site=$(python3 -I -c 'import sysconfig; print(sysconfig.get_path("purelib"))'); \
    install -d "$site"; \
    echo /app > "$site/tradebot.pth"

# Metadata before the code, so a code-only change rebuilds one layer and nothing after it.
# No VOLUME: the state volume is named and mounted by compose; an image-declared volume
# would leave an anonymous volume behind every container made without it.
# No PYTHON* variables: `-I` ignores them. The working directory is the read-only root, never the state.
# The stage protocol the bot and worker speak (docs/interfaces.md; trading/stages.py PROTOCOL, a test keeps
# the two equal): a deploy hands over between two releases only when both images say 2 or more.
LABEL io.tradebot.protocol="2"
ENV TRADEBOT_STATE_DIR=/var/lib/tradebot
USER 10001:10001
WORKDIR /
HEALTHCHECK --interval=5s --timeout=5s --start-period=30s --retries=3 CMD ["python3", "-I", "-m", "trading", "health"]
ENTRYPOINT ["python3", "-I", "-m", "trading"]
CMD ["bot"]

# The code layer: owned by root with the committed modes (0644/0755), so the runtime
# user can read it and cannot change it. The context (deploy/steps/buildcontext.py) holds
# rootfs/app/trading/ with every entry, /app and /app/trading included, owned by root
# with a fixed time: copying rootfs/ makes no directory on the engine, so the layer
# is a function of the commit alone, the same on every engine.
COPY --chown=0:0 rootfs/ /
