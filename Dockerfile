# A small image that runs `pangeo-forge-orchestrator serve`.
# Build: docker build -t pangeo-forge-orchestrator .
#        (no Docker engine or registry at hand: scripts/build-image-offline.sh, with buildah)
# Run:   docker run -p 8000:8000 -e DATABASE_URL=postgres://user:pass@db/pfo pangeo-forge-orchestrator

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin pangeo-forge-orchestrator \
 && strip target/release/pangeo-forge-orchestrator

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 pfo \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --create-home pfo
COPY --from=build /src/target/release/pangeo-forge-orchestrator /usr/local/bin/pangeo-forge-orchestrator
# Numeric, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
USER 10001:10001
WORKDIR /data
# Listen on every interface inside the container; SQLite (the default) writes /data/pangeo-forge.db.
ENV PFO_BIND=0.0.0.0:8000
EXPOSE 8000
ENTRYPOINT ["pangeo-forge-orchestrator"]
CMD ["serve"]
