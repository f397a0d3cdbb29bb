# The load generator's locust master and workers, and the game-day runner, on Fargate (x86_64, for
# Fargate Spot).
# Build from the repository root:
#   docker build --platform linux/amd64 -f infra/sam/docker/loadgen.Dockerfile -t itinera-loadgen .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# The dependencies exactly as pyproject.toml declares them, with the `load` extra (locust,
# Faker, matplotlib), pinned like every other install of the project: constraints.txt fixes
# each transitive version. The project itself is not pip-installed: its wheel would add the
# `itinera` command, whose code (cli/) is not in this image. The image copies the packages the
# load generator runs instead (PYTHONPATH below): the load tools, the runtime kit, and
# inventory, whose seed hubs the load catalog reads; and for the game-day runner's task
# (`python -m chaos.gameday.task`), the game days, the FIS plan and stop checks of localaws
# it reads experiments with, and the invariant check of operations. Its own ignore file
# (loadgen.Dockerfile.dockerignore) admits nothing else into the context.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print(*p['dependencies'], *p['optional-dependencies']['load'], sep='\n')" > requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt -r requirements.txt
COPY itinera /app/itinera
COPY inventory /app/inventory
COPY loadtests /app/loadtests
COPY chaos /app/chaos
COPY localaws /app/localaws
COPY operations /app/operations
RUN python -m compileall -q --invalidation-mode checked-hash /app

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 HOME=/tmp
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
RUN useradd --system --uid 10001 --no-create-home itinera
USER 10001
WORKDIR /tmp
EXPOSE 5557
# A worker has no port to ask: the check is that the locust process is still alive.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import os; os.kill(1, 0)"]
CMD ["python", "-m", "loadtests.fargate", "worker"]
