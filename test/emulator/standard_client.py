"""A standard SQL Server client (pymssql, i.e. FreeTDS) against the emulator: what a DBA would type, printed as JSON."""
import json
import sys

import pymssql

endpoint = json.loads(sys.argv[1])
connection = pymssql.connect(
    server=endpoint["host"], port=str(endpoint["port"]), user=endpoint["user"], password=endpoint["password"], database="master"
)
cursor = connection.cursor()
out = {}
cursor.execute("SELECT name FROM sys.databases WHERE database_id > 4 ORDER BY name")
out["databases"] = [row[0] for row in cursor.fetchall()]
cursor.execute("SELECT DATABASEPROPERTYEX(N'sales', 'Updateability')")
out["updateability"] = cursor.fetchone()[0]
cursor.execute("USE sales")
cursor.execute("SELECT partner_server, role_desc, replication_state_desc FROM sys.dm_geo_replication_link_status")
out["link"] = list(cursor.fetchone())
cursor.execute("INSERT INTO dbo.fogpilot_workload (payload) OUTPUT INSERTED.id VALUES (%s)", ("from FreeTDS",))
out["inserted"] = cursor.fetchone()[0]
connection.commit()  # pymssql runs in a transaction (BEGIN TRAN) until told otherwise
cursor.execute("EXEC sys.sp_wait_for_database_copy_sync @target_server = %s, @target_database = N'sales'", (endpoint["partner"],))
cursor.execute("SELECT COUNT(*) FROM dbo.fogpilot_workload WHERE payload = 'from FreeTDS'")
out["count"] = cursor.fetchone()[0]
cursor.execute("INSERT INTO dbo.fogpilot_workload (payload) VALUES (%s)", ("rolled back by FreeTDS",))
connection.rollback()
cursor.execute("SELECT COUNT(*) FROM dbo.fogpilot_workload WHERE payload = 'rolled back by FreeTDS'")
out["rolledBack"] = cursor.fetchone()[0]
try:
    cursor.execute("SELECT * FROM dbo.nowhere")
except pymssql.Error as error:
    out["error"] = error.args[0]
connection.close()
print(json.dumps(out))
