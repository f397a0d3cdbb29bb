# The load generator's locust master and workers on Fargate (x86_64, for Fargate Spot).
# Build from the repository root:
#   docker build --platform linux/amd64 -f infra/sam/docker/loadgen.Dockerfile -t itinera-loadgen .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml constraints.txt ./
COPY itinera ./itinera
COPY gateway ./gateway
COPY inventory ./inventory
COPY checkout ./checkout
COPY notifier ./notifier
COPY loadtests ./loadtests
# Pinned like every other install of the project; the `load` extra adds locust and matplotlib.
RUN /opt/venv/bin/pip install -c constraints.txt '.[load]'

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
COPY --from=build /opt/venv /opt/venv
RUN useradd --system --uid 10001 --no-create-home itinera
USER 10001
WORKDIR /tmp
EXPOSE 5557
# A worker has no port to ask: the check is that the locust process is still alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os; os.kill(1, 0)"]
CMD ["python", "-m", "loadtests.fargate", "worker"]
