# The reference platform-agent (`platform_agent`, console script `surfaces-agent`), for the fullstack stack.
# Same base-image approach and the same uid as the bot image, so both write the shared /workspace volume.
# Context: the repo root. `--build-arg BASE_IMAGE=local/bookworm-py:base` on a machine without a registry.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG UV_VERSION=0.13.9
ENV UV_PYTHON_DOWNLOADS=never UV_PYTHON_PREFERENCE=only-system UV_SYSTEM_CERTS=1 UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/surfaces PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/uv && /opt/uv/bin/pip install --quiet --no-cache-dir "uv==${UV_VERSION}"
WORKDIR /src
COPY pyproject.toml uv.lock README.md ./
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-group homeserver --no-group bench --no-install-project \
      --no-cache --python python3
COPY domain ./domain
COPY ports ./ports
COPY adapters ./adapters
COPY bootstrap ./bootstrap
COPY platform_agent ./platform_agent
RUN /opt/uv/bin/uv sync --frozen --no-dev --no-group homeserver --no-group bench --no-editable \
      --no-cache --python python3

FROM ${BASE_IMAGE}
ARG APP_UID=10001
RUN groupadd --gid "${APP_UID}" surfaces \
    && useradd --uid "${APP_UID}" --gid "${APP_UID}" --home-dir /nonexistent --no-create-home \
       --shell /usr/sbin/nologin surfaces \
    && mkdir -p /workspace \
    && chown "${APP_UID}:${APP_UID}" /workspace
COPY --from=build /opt/surfaces /opt/surfaces
ENV PATH=/opt/surfaces/bin:$PATH PYTHONUNBUFFERED=1 \
    AGENT_HOST=0.0.0.0 AGENT_PORT=8090 AGENT_WORKSPACE_DIR=/workspace
USER ${APP_UID}:${APP_UID}
VOLUME ["/workspace"]
EXPOSE 8090
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 CMD ["python3", "-c", \
  "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ.get('AGENT_PORT', '8090'), timeout=2)"]
CMD ["surfaces-agent"]
