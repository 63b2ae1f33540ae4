# HAProxy from Debian's packages on the common base (no registry is needed): the scale stack's load balancer
# in front of the bot replicas (haproxy.cfg). Context: the repo root.
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE}
RUN apt-get update \
    && apt-get install -y --no-install-recommends haproxy \
    && rm -rf /var/lib/apt/lists/*
COPY deploy/scale/haproxy.cfg /etc/haproxy/haproxy.cfg
# haproxy -c: a broken configuration fails the build, not the start.
RUN haproxy -c -f /etc/haproxy/haproxy.cfg
USER haproxy
EXPOSE 8009 8404
# The base images have python3; the monitor URI answers 503 while no replica is up.
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=3 CMD ["python3", "-c", \
  "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8404/health', timeout=2)"]
CMD ["haproxy", "-W", "-db", "-f", "/etc/haproxy/haproxy.cfg"]
