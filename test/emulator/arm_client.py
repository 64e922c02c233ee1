"""Another ARM client against the emulator: Azure's Python SDK (azure-mgmt-sql on azure-core), over HTTPS with a bearer
token and the emulator's CA, printed as JSON. Nothing here is fogpilot's: it is what a user's own tooling would do."""
import json
import sys
import time

from azure.core.credentials import AccessToken
from azure.core.exceptions import HttpResponseError
from azure.mgmt.sql import SqlManagementClient

args = json.loads(sys.argv[1])


class StaticToken:
    """A credential that hands out the emulator's token, as a real credential hands out Entra ID's."""

    def get_token(self, *scopes, **kwargs):
        return AccessToken(args["token"], int(time.time()) + 3600)


client = SqlManagementClient(
    StaticToken(),
    args["subscriptionId"],
    base_url=args["endpoint"],
    credential_scopes=["https://management.azure.com/.default"],
    connection_verify=args["caFile"],
)
out = {}
groups = list(client.instance_failover_groups.list_by_location(args["resourceGroup"], args["location"]))
out["groups"] = [group.name for group in groups]
group = client.instance_failover_groups.get(args["resourceGroup"], args["location"], args["group"])
out["group"] = {
    "name": group.name,
    "replicationRole": group.replication_role,
    "primary": group.managed_instance_pairs[0].primary_managed_instance_id,
}
instance = client.managed_instances.get(args["resourceGroup"], args["instance"])
out["instance"] = {"name": instance.name, "fqdn": instance.fully_qualified_domain_name, "state": instance.state}
try:
    client.instance_failover_groups.get(args["resourceGroup"], args["location"], "no-such-group")
except HttpResponseError as error:
    out["missing"] = {"status": error.status_code, "code": error.error.code if error.error else None}
print(json.dumps(out))
