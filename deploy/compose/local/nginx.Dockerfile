# compose.yaml's nginx:1.27-alpine, made from Debian 12's nginx-light (1.22; no registry here):
# the same port (8080 as the mounted nginx.conf says), user (nginx) and configuration path,
# with wget for compose.yaml's healthcheck. Built by script/compose-local; used through
# deploy/compose/local.yaml only.
FROM docker.io/library/debian:12
ARG DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends nginx-light wget \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/cache/apt/archives/*.deb \
 && useradd --system --no-create-home --shell /usr/sbin/nologin nginx
COPY nginx-entrypoint.sh /usr/local/bin/
ENTRYPOINT ["nginx-entrypoint.sh"]
STOPSIGNAL SIGQUIT
EXPOSE 8080
