"""Another ARM client against the emulator's Azure SQL Database: Azure's Python SDK (azure-mgmt-sql on azure-core, its
api-version 2025-01-01), over HTTPS with a bearer token and the emulator's CA, printed as JSON. It fails a server
failover group over and back as a user's own tooling would: nothing here is fogpilot's."""
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
rg = args["resourceGroup"]
name = args["group"]
primary = args["primaryServer"]
secondary = args["secondaryServer"]


def view(group):
    """What a user reads of the group at one server: its role, its partners with theirs, its member databases."""
    return {
        "name": group.name,
        "replicationRole": group.replication_role,
        "partnerServers": [
            {"id": partner.id, "location": partner.location, "replicationRole": partner.replication_role}
            for partner in group.partner_servers
        ],
        "databases": sorted(database.rsplit("/", 1)[-1] for database in group.databases or []),
    }


def both():
    return {server: view(client.failover_groups.get(rg, server, name)) for server in (primary, secondary)}


out = {"groups": [group.name for group in client.failover_groups.list_by_server(rg, primary)]}
out["before"] = both()
# A planned failover is POSTed at the secondary server, which becomes the primary; the poller follows the async
# operation to its end.
out["failover"] = view(client.failover_groups.begin_failover(rg, secondary, name, polling_interval=0.2).result())
out["afterFailover"] = both()
# Back with Azure's own "planned first, forced if it cannot" (api-version 2023-02-01-preview and later).
out["tryPlanned"] = view(
    client.failover_groups.begin_try_planned_before_forced_failover(rg, primary, name, polling_interval=0.2).result()
)
out["afterTryPlanned"] = both()
# A failover POSTed at the server that is already the primary is refused, and nothing changes.
try:
    client.failover_groups.begin_failover(rg, primary, name, polling_interval=0.2).result()
    out["refusal"] = None
except HttpResponseError as error:
    out["refusal"] = {"status": error.status_code, "code": error.error.code if error.error else None}
out["afterRefusal"] = both()
print(json.dumps(out))
