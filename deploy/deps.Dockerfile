# The dependency layer of the QuantumLayer image: a Node base plus production node_modules. scripts/build-image
# builds it once per package-lock.json (build context: the installed dependencies), so an application
# rebuild sends only the compiled code. deploy/Dockerfile builds on it.
ARG BASE_IMAGE=node:20-bookworm-slim
FROM ${BASE_IMAGE}
WORKDIR /app
COPY --chown=0:0 node_modules ./node_modules
