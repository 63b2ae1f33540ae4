# PostgreSQL from Debian's packages on the same base as every other image (no registry is needed): the
# scale stack's Synapse database and the bots' shared database. Context: the repo root.
#   POSTGRES_USER, POSTGRES_PASSWORD, POSTGRES_DB   the role and database made on the first start
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE}
ARG PG_MAJOR=15
# No cluster at install time: postgres-start.sh makes one in the volume on the first start.
RUN mkdir -p /etc/postgresql-common \
    && echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf \
    && apt-get update \
    && apt-get install -y --no-install-recommends "postgresql-${PG_MAJOR}" \
    && rm -rf /var/lib/apt/lists/* \
    && mkdir -p /var/lib/postgresql/data /var/run/postgresql \
    && chown -R postgres:postgres /var/lib/postgresql /var/run/postgresql
COPY deploy/scale/postgres-start.sh /usr/local/bin/postgres-start
ENV PATH=/usr/lib/postgresql/${PG_MAJOR}/bin:$PATH PGDATA=/var/lib/postgresql/data
USER postgres
VOLUME ["/var/lib/postgresql/data"]
EXPOSE 5432
HEALTHCHECK --interval=2s --timeout=3s --start-period=30s --retries=3 CMD \
  ["sh", "-c", "pg_isready -q -h 127.0.0.1 -U \"$POSTGRES_USER\" -d \"$POSTGRES_DB\""]
STOPSIGNAL SIGINT
CMD ["postgres-start"]
