# vplanet's container image: one static binary on a distroless base that
# carries CA certificates (feeds are fetched over HTTPS) and tzdata (--tz,
# CRON_TZ), and runs as a non-root user.
#
#   docker build -t vplanet .
#   docker run -p 8080:8080 -v vplanet-data:/data vplanet
#
# Without --database the store is SQLite in the /data volume; with
# --database postgres://… (or VPLANET_DATABASE_URL) /data holds only this
# replica's index and server record. compose.yaml starts the PostgreSQL shape.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a change of code reuses the downloaded modules.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
# modernc's SQLite is pure Go, so the binary needs no C library.
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X vplanet.Version=${VERSION}" -o /out/vplanet ./cmd/vplanet \
 && mkdir -p /out/data
# The binary carries its modules, and the IPA dictionary inside kagome-dict:
# their licences and notices go with it, module by module.
RUN go list -deps -f '{{with .Module}}{{.Path}} {{.Dir}}{{end}}' ./cmd/vplanet | sort -u \
  | while read -r path dir; do \
      for f in "$dir"/LICENSE* "$dir"/NOTICE* "$dir"/COPYING*; do \
        if [ -f "$f" ]; then mkdir -p "/out/licenses/$path" && cp "$f" "/out/licenses/$path/"; fi; \
      done; \
    done \
 && cp index/ja/NOTICE.txt /out/licenses/vplanet-index-ja-NOTICE.txt

# distroless/static has CA certificates, tzdata and a nonroot user (65532),
# and nothing else: no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/vplanet /usr/local/bin/vplanet
COPY --from=build /out/licenses /usr/share/doc/vplanet/licenses
COPY --from=build --chown=65532:65532 /out/data /data
COPY feeds.txt /etc/vplanet/feeds.txt
ENV VPLANET_DATA=/data \
    VPLANET_FEEDS=/etc/vplanet/feeds.txt
USER 65532:65532
VOLUME /data
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/vplanet"]
CMD ["serve", "--addr", ":8080"]
