# The inventory service on Fargate (ARM64). Build from the repository root:
#   docker build --platform linux/arm64 -f infra/sam/docker/inventory.Dockerfile -t itinera-inventory .
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
# Pinned like every other install of the project: constraints.txt fixes each transitive version.
RUN /opt/venv/bin/pip install -c constraints.txt .
# Aurora's certificate authorities: inventory verifies the database's TLS certificate with
# them (DB_SSL_CA), as IAM database authentication requires TLS.
RUN python -c "import urllib.request; urllib.request.urlretrieve('https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem', '/src/rds-global-bundle.pem')"

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 PORT=8081
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/rds-global-bundle.pem /etc/ssl/rds/global-bundle.pem
RUN useradd --system --uid 10001 --no-create-home itinera
USER 10001
EXPOSE 8081
# Liveness only (/health): the ECS task definition repeats this check, and /ready would fail
# with a shared dependency and get every task replaced at once.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8081/health', timeout=3)"]
CMD ["python", "-m", "inventory"]
