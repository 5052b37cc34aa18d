# linkis-gateway: build with the dev dependencies, run with the production ones only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY --chown=node:node conf ./conf
USER node
EXPOSE 9001
# The conf directory is usually mounted: docker run -v $PWD/conf:/app/conf ...
CMD ["node", "dist/src/main.js", "--conf", "/app/conf"]
