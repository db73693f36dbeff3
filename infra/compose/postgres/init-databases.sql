-- Run once by the postgres image, when its volume is first initialised.
-- One database per service (SPEC §3; `nudges migrate` would create them too) and
-- Keycloak's, owned by a role of its own.
CREATE DATABASE userdb;
CREATE DATABASE productdb;
CREATE DATABASE paymentdb;
CREATE DATABASE consumersdb;
CREATE DATABASE registrydb;

CREATE ROLE keycloak LOGIN PASSWORD 'keycloak';
CREATE DATABASE keycloak OWNER keycloak;
