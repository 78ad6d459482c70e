# Prometheus for the `observability` compose profile (compose-mesh-prometheus:latest): Debian's
# prometheus binary on the same base as compose-mesh:latest, and nothing else. A second image
# rather than a layer of the main one: every mesh container runs the main image, and none of
# them needs a 50 MB Prometheus; the two images share the base layers, so the disk cost is one
# layer.
#
#   Offline (no registry):  npm run compose:offline   (stages bin/prometheus from the
#                           Debian archive's package, the same archive nats-server comes from)
#   Normal way (registry):  docker build -f compose/prometheus.Dockerfile -t compose-mesh-prometheus:latest compose
#                           (installs Debian's package), or set MESH_PROMETHEUS_IMAGE=prom/prometheus:v2.42.0
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}
# `bi[n]` matches the offline build's staged bin/ folder and nothing in compose/ (a wildcard
# may match nothing). The binary stays where COPY puts it (a symlink puts it on PATH): moving
# it would store its 50 MB in a second layer.
COPY prometheus.yml bi[n] /usr/local/lib/mesh-prometheus/
RUN set -e; \
    if [ -f /usr/local/lib/mesh-prometheus/prometheus ]; then \
      ln -s /usr/local/lib/mesh-prometheus/prometheus /usr/local/bin/prometheus; \
    else \
      apt-get update && apt-get install -y --no-install-recommends prometheus && rm -rf /var/lib/apt/lists/*; \
    fi; \
    mkdir -p /etc/prometheus /prometheus && cp /usr/local/lib/mesh-prometheus/prometheus.yml /etc/prometheus/ && \
    chown 65534:65534 /prometheus
LABEL org.opencontainers.image.title=compose-mesh-prometheus \
      org.opencontainers.image.description="Prometheus for compose-mesh's observability profile"
USER 65534:65534
EXPOSE 9090
ENTRYPOINT ["prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.listen-address=0.0.0.0:9090"]
