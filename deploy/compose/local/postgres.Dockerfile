# compose.yaml's postgres:15, made from Debian 12's postgresql-15 (no registry here): the same
# port (5432), data directory (/var/lib/postgresql/data, a volume), superuser (postgres),
# environment (POSTGRES_PASSWORD, POSTGRES_DB) and password authentication on every TCP
# connection (scram-sha-256), so compose.yaml's command, healthcheck and db-roles job run as
# written. Built by script/compose-local; used through deploy/compose/local.yaml only.
FROM docker.io/library/debian:12
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends postgresql-15 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb
ENV PATH=/usr/lib/postgresql/15/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PGDATA=/var/lib/postgresql/data
COPY postgres-entrypoint.sh /usr/local/bin/docker-entrypoint.sh
ENTRYPOINT ["docker-entrypoint.sh"]
CMD ["postgres"]
# A fast shutdown (what the official image uses): sessions end, the WAL is flushed.
STOPSIGNAL SIGINT
EXPOSE 5432
