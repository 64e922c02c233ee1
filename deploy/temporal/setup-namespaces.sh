#!/bin/sh
# The `temporal-setup` service of docker-compose.yml: makes sure each namespace in NAMESPACES exists (with
# NAMESPACE_RETENTION) and has fogpilot's search attributes, so that
#   temporal workflow list --query 'FogpilotGroup="fog-sales"'
# finds a group's runbooks from the first one on. The workers register the same attributes at start; doing it here
# first means no worker races another for it.
#
# Idempotent: what exists is left as it is. The temporal CLI reads the server's address from TEMPORAL_ADDRESS.
set -eu

: "${TEMPORAL_ADDRESS:?TEMPORAL_ADDRESS must name the Temporal frontend, e.g. temporal:7233}"
: "${NAMESPACES:?NAMESPACES must list the namespaces to set up, separated by spaces}"
retention="${NAMESPACE_RETENTION:-30d}"
# fogpilot's custom search attributes (src/workflows/search-attributes.ts), all of type Keyword.
search_attributes="FogpilotGroup FogpilotRunbook FogpilotPhase"

# retry <what> <command...>: the server and its namespace cache take a moment after start and after a change.
retry() {
  what=$1
  shift
  tries=1
  until "$@"; do
    if [ "$tries" -ge 60 ]; then
      echo "[temporal-setup] giving up after $tries tries: $what (is the server at $TEMPORAL_ADDRESS healthy?)" >&2
      return 1
    fi
    tries=$((tries + 1))
    sleep 2
  done
}

serving() {
  temporal operator cluster health 2>/dev/null | grep -q SERVING
}

namespace_exists() {
  temporal operator namespace describe --namespace "$1" >/dev/null 2>&1 ||
    temporal operator namespace create --namespace "$1" --retention "$retention"
}

search_attribute_exists() { # search_attribute_exists <namespace> <name>
  temporal operator search-attribute list --namespace "$1" 2>/dev/null | grep -qw "$2" ||
    temporal operator search-attribute create --namespace "$1" --name "$2" --type Keyword
}

retry "the server is not serving" serving
for namespace in $NAMESPACES; do
  retry "namespace $namespace" namespace_exists "$namespace"
  for name in $search_attributes; do
    retry "search attribute $name in $namespace" search_attribute_exists "$namespace" "$name"
  done
  echo "[temporal-setup] namespace $namespace: ready, with $search_attributes"
done
