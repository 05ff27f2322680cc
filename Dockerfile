# Builds the grimoire binary (and, as later parts land, the web app and example plugins).
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p grimoire-host

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/grimoire grimoire \
    && mkdir -p /var/lib/grimoire /opt/grimoire && chown grimoire /var/lib/grimoire
COPY --from=build /src/target/release/grimoire /usr/local/bin/grimoire
COPY --from=build /src/rules /opt/grimoire/rules
WORKDIR /opt/grimoire
USER grimoire
ENV GRIMOIRE_DATA_DIR=/var/lib/grimoire GRIMOIRE_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["grimoire", "serve"]
