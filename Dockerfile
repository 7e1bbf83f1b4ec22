# The Gatehouse gateway image: the workspace built once, run as an unprivileged user.
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ openssl \
 && rm -rf /var/lib/apt/lists/*
RUN npm install -g pnpm@12.4.2
WORKDIR /opt/gatehouse
COPY . .
RUN pnpm install --frozen-lockfile && pnpm build
RUN useradd --system --home-dir /var/lib/gatehouse gatehouse \
 && mkdir -p /var/lib/gatehouse && chown gatehouse /var/lib/gatehouse \
 && ln -s /opt/gatehouse/cli/bin/gatehouse.js /usr/local/bin/gatehouse
USER gatehouse
EXPOSE 15432 2222 9090
ENTRYPOINT ["node", "/opt/gatehouse/cli/bin/gatehouse.js"]
CMD ["start", "--config", "/etc/gatehouse/gatehouse.yaml"]
