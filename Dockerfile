# syntax=docker/dockerfile:1
# One image for every Handoff component: the six services, the gateway and the migrations.
#
#   docker build -t handoff .
#   docker run -e COMPONENT=identity  -e AMQP_URI=... -e DATABASE_URL=... handoff
#   docker run -e COMPONENT=gateway -p 8000:8000 -e AMQP_URI=... handoff
#   docker run -e DATABASE_URL=... handoff python -m shared.migrations upgrade
#
# COMPONENT names an entry of shared/processes.py COMPONENTS (identity, directory, referrals,
# sharing, billing, notify, gateway); the default command starts it exactly as `make run` and
# the system tests do: `nameko run --config <its config.yml> <module:Class>`. It can be baked in
# with `--build-arg COMPONENT=...` or chosen at run time with `-e COMPONENT=...` (compose does
# the latter, so all components share one build).
FROM python:3.11-slim

# PYTHONWARNINGS as shared/processes.py sets it for `make run` (eventlet's deprecation notice
# would otherwise open every log and every health check's output).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONWARNINGS=ignore \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

WORKDIR /app

# A Unicode font for printed referral lists (notify's PDF falls back to Latin-1 without it).
RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

# Runtime dependencies only (requirements-dev.txt is for tests); a layer of its own so a code
# change does not reinstall them.
COPY requirements.txt ./
RUN pip install -r requirements.txt

RUN groupadd --system handoff \
    && useradd --system --gid handoff --home-dir /app --no-create-home --shell /usr/sbin/nologin handoff

# Code stays owned by root: the service user can read it, not change it.
COPY shared/ shared/
COPY gateway/ gateway/
COPY services/ services/

# The same package directories the Makefile's PACKAGE_DIRS writes into handoff.pth
# (tests/test_deployment_files.py keeps the two lists equal).
ENV PYTHONPATH=/app:/app/gateway:/app/services/identity:/app/services/directory:/app/services/referrals:/app/services/sharing:/app/services/billing:/app/services/notify

# Starts $COMPONENT. nameko replaces the launcher (exec), so it receives the container's
# SIGTERM itself and shuts down cleanly.
COPY --chmod=0755 <<"EOF" /usr/local/bin/handoff-run
#!/usr/local/bin/python
"""Runs the component named by $COMPONENT: nameko run --config <config.yml> <module:Class>."""
import os
import sys

from shared.processes import COMPONENTS, ROOT

name = os.environ.get("COMPONENT", "")
if name not in COMPONENTS:
    sys.exit(f"COMPONENT must be one of {', '.join(COMPONENTS)}; got {name!r}")
config, module = COMPONENTS[name]
os.chdir(ROOT)
os.execv(sys.executable, [sys.executable, "-m", "nameko", "run", "--config", config, module])
EOF

# Healthy means: the gateway answers GET /health; a service answers its `health` RPC (which
# also runs SELECT 1 on its database). Uses only what the image has (no curl in slim).
COPY --chmod=0755 <<"EOF" /usr/local/bin/handoff-healthcheck
#!/usr/local/bin/python
"""Exit 0 when $COMPONENT is healthy, 1 otherwise."""
import os
import sys
import urllib.request

name = os.environ.get("COMPONENT", "")
try:
    if name == "gateway":
        port = os.environ.get("GATEWAY_PORT", "8000")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            sys.exit(0 if response.status == 200 else 1)
    from nameko.standalone.rpc import ClusterRpcProxy
    with ClusterRpcProxy({"AMQP_URI": os.environ["AMQP_URI"]}, timeout=5) as cluster:
        getattr(cluster, name).health()
except Exception as exc:
    print(f"{name or 'COMPONENT unset'}: unhealthy: {exc!r}", file=sys.stderr)
    sys.exit(1)
EOF

ARG COMPONENT=gateway
ENV COMPONENT=${COMPONENT} \
    GATEWAY_PORT=8000

USER handoff
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
    CMD ["handoff-healthcheck"]

CMD ["handoff-run"]
