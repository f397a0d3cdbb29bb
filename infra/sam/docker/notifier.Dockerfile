# The notifier service on Fargate (ARM64). Build from the repository root:
#   docker build --platform linux/arm64 -f infra/sam/docker/notifier.Dockerfile -t itinera-notifier .
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
# The dependencies exactly as pyproject.toml declares them, pinned like every other
# install of the project: constraints.txt fixes each transitive version. The project itself is
# not pip-installed: its wheel would add the `itinera` command, whose code (cli/) is a tool and
# not in this image. The image copies the packages it runs instead (PYTHONPATH below), and its
# own ignore file (notifier.Dockerfile.dockerignore) admits nothing else into the context.
COPY pyproject.toml constraints.txt ./
RUN python -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print(*p['dependencies'], sep='\n')" > requirements.txt \
 && /opt/venv/bin/pip install -c constraints.txt -r requirements.txt
COPY itinera /app/itinera
COPY notifier /app/notifier
RUN python -m compileall -q --invalidation-mode checked-hash /app

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8084
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
RUN useradd --system --uid 10001 --no-create-home itinera
USER 10001
EXPOSE 8084
# Liveness only (/health): the ECS task definition repeats this check, and /ready would fail
# with a shared dependency and get every task replaced at once.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8084/health', timeout=3)"]
CMD ["python", "-m", "notifier"]
