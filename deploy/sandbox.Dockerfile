# The sandbox image for production (SANDBOX_IMAGE=<registry>/qlp-sandbox:<version>), built from the
# repository root: docker build -f deploy/sandbox.Dockerfile -t qlp-sandbox .
# It has the layout the Docker driver expects (docs/sandbox.md): node on PATH, the runner at
# /opt/qlp/runner.cjs, the curated packages at /opt/qlp/deps/node_modules, user 10001, /work and /tmp mode 1777
# (Docker gives the tmpfs mounted there this mode). The driver starts the runner as root with only
# SETUID, SETGID, KILL and CHOWN; the runner starts the project's steps as 10001.
# Not built on our CI machines (nothing can be pulled there); they build the same layout offline.
FROM node:20-bookworm-slim
RUN groupadd -g 10001 sandbox \
 && useradd -u 10001 -g 10001 -d /work -M -s /usr/sbin/nologin sandbox \
 && mkdir -p /work /opt/qlp/deps \
 && chmod 1777 /work /tmp
WORKDIR /opt/qlp/deps
# The curated set: keep in step with adapters/sandbox/layout.ts and agents/curated-dependencies.json.
RUN npm install --no-save --no-audit --no-fund typescript@5.9.3 @types/node@20 && npm cache clean --force
COPY adapters/sandbox/runner/runner.cjs /opt/qlp/runner.cjs
WORKDIR /work
CMD ["node", "/opt/qlp/runner.cjs"]
