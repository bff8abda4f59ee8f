# fluxbot's container image (docs/install.md). `docker build -t fluxbot .` (or `docker compose
# build`) builds the release archive from this checkout and installs it on a Java 21 runtime.
# Targets: the default (last) stage is the bot; `--target klein-worker` is the klein worker for
# NVIDIA GPUs (compose profile gpu).

# --- 1. The release archive, built with the pinned Maven (./mvnw fetches it through the image's mvn).
FROM maven:3.9-eclipse-temurin-21 AS build
WORKDIR /src
COPY . .
RUN ./mvnw -B -ntp -pl dist -am package -Dmaven.test.skip=true \
 && mkdir -p /opt/fluxbot \
 && tar -xzf dist/target/fluxbot-*.tar.gz -C /opt/fluxbot --strip-components=1

# --- 2. The klein worker on PyTorch with CUDA: python -m fluxbot_klein serve ... (docs/local-klein.md).
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime AS klein-worker
RUN python -m pip install --no-cache-dir numpy pillow regex \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin klein
COPY runtime-local/worker/fluxbot_klein /opt/fluxbot/worker/fluxbot_klein
ENV PYTHONPATH=/opt/fluxbot/worker
USER klein
EXPOSE 8188
# Loading the model takes minutes; /v1/health answers 200 once it is loaded and warm.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15m --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8188/v1/health', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["python", "-m", "fluxbot_klein"]
CMD ["serve", "--checkpoint", "/models/FLUX.2-klein-4B", "--device", "cuda", "--listen", "0.0.0.0:8188"]

# --- 3. The bot: the archive on a Java 21 runtime, as the user fluxbot (uid 10001), data in /data.
FROM eclipse-temurin:21-jre AS bot
RUN groupadd --system --gid 10001 fluxbot \
 && useradd --system --uid 10001 --gid fluxbot --home-dir /data --no-create-home --shell /usr/sbin/nologin fluxbot \
 && mkdir -p /data \
 && chown fluxbot:fluxbot /data \
 && chmod 0750 /data
COPY --from=build /opt/fluxbot /opt/fluxbot
COPY docker/entrypoint.sh /opt/fluxbot/bin/docker-entrypoint
# FLUXBOT_OPS_LISTEN: the ops listener (/healthz, /readyz, /metrics) on every interface of the
# container (on a bare host it is 127.0.0.1:9464). The config: FLUXBOT_CONFIG, else
# /data/fluxbot.yaml when present, else the built-in defaults; secrets from the environment.
ENV LANG=C.UTF-8 \
    FLUXBOT_HOME=/opt/fluxbot \
    FLUXBOT_DATA_DIR=/data \
    FLUXBOT_OPS_LISTEN=0.0.0.0:9464 \
    PATH=/opt/fluxbot/bin:$PATH
USER fluxbot:fluxbot
WORKDIR /data
VOLUME /data
# 9464: the ops listener. 8787: download links, when web.public_url is set (with web.listen:
# 0.0.0.0:8787 in /data/fluxbot.yaml).
EXPOSE 9464 8787
# No curl needed: bin/fluxbot-healthcheck speaks HTTP with bash alone.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/opt/fluxbot/bin/fluxbot-healthcheck", "http://127.0.0.1:9464/readyz"]
ENTRYPOINT ["/opt/fluxbot/bin/docker-entrypoint"]
CMD ["run"]
