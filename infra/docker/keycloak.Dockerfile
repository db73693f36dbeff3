# syntax=docker/dockerfile:1
# Build from the repository root: docker build -f infra/docker/keycloak.Dockerfile .
# Keycloak for AWS (infra/terraform, module "keycloak"): an optimized build for PostgreSQL
# with the `nudges` realm of infra/keycloak imported at start (an existing realm is kept).
# TLS ends at the load balancer, which forwards only the realm's public endpoints; the
# admin console and the master realm are never routed (see infra/terraform/README.md).
ARG KEYCLOAK_IMAGE=quay.io/keycloak/keycloak:26.2.5

FROM ${KEYCLOAK_IMAGE} AS build
ENV KC_DB=postgres KC_HEALTH_ENABLED=true KC_METRICS_ENABLED=true
RUN /opt/keycloak/bin/kc.sh build

FROM ${KEYCLOAK_IMAGE}
COPY --from=build /opt/keycloak/ /opt/keycloak/
COPY infra/keycloak/nudges-realm.json /opt/keycloak/data/import/nudges-realm.json
USER 1000
EXPOSE 8080
ENTRYPOINT ["/opt/keycloak/bin/kc.sh"]
CMD ["start", "--optimized", "--import-realm"]
