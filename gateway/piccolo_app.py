"""The one Piccolo app: every table of the gateway and its migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from audit.tables import AuditRecord
from gateway.api_keys.tables import ApiKey
from gateway.change_requests.tables import ChangeRequest
from gateway.idempotency.tables import IdempotencyRecord
from gateway.staff.tables import StaffLoginChallenge, StaffRecoveryCode, StaffSession, StaffUser

APP_CONFIG = AppConfig(
    app_name="gateway",
    migrations_folder_path=str(Path(__file__).parent / "migrations"),
    table_classes=[
        ApiKey,
        IdempotencyRecord,
        ChangeRequest,
        AuditRecord,
        StaffUser,
        StaffSession,
        StaffRecoveryCode,
        StaffLoginChallenge,
    ],
    migration_dependencies=[],
    commands=[],
)
