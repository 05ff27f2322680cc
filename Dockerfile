# Builds the grimoire binary, the web app and the example WASM plugins (from source, into their
# rule packs), fetches the SRD data, and runs them on a slim Debian image.

FROM node:20-bookworm AS web
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM rust:1.95-bookworm AS build
# Rust plugins through rustup's wasm32 target; the C plugin through clang and wasm-ld.
RUN rustup target add wasm32-unknown-unknown \
    && apt-get update && apt-get install -y --no-install-recommends clang lld python3-pip \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN scripts/fetch-srd.sh && plugins/build.sh && cargo build --release --locked -p grimoire-host

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* && useradd --system --home /var/lib/grimoire grimoire \
    && mkdir -p /var/lib/grimoire /opt/grimoire && chown grimoire /var/lib/grimoire
COPY --from=build /src/target/release/grimoire /usr/local/bin/grimoire
COPY --from=build /src/rules /opt/grimoire/rules
# The SRD data (CC-BY-4.0), imported into the compendium on first start.
COPY --from=build /src/.srd /opt/grimoire/.srd
COPY --from=web /src/frontend/build /opt/grimoire/frontend/build
WORKDIR /opt/grimoire
USER grimoire
ENV GRIMOIRE_DATA_DIR=/var/lib/grimoire GRIMOIRE_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["grimoire", "serve"]
