# compose.yaml's prom/prometheus, made from Debian 12's prometheus (2.42; no registry here):
# the same port (9090), configuration path (/etc/prometheus), data volume (/prometheus) and
# user (nobody), with wget for compose.yaml's healthcheck. Built by script/compose-local; used
# through deploy/compose/local.yaml only.
FROM docker.io/library/debian:12
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends prometheus wget \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
 && mkdir -p /prometheus && chown nobody:nogroup /prometheus
USER nobody
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
EXPOSE 9090
