"""Enumerations shared by the models, the policy engine and the API."""

from __future__ import annotations

from enum import Enum


class MemberStatus(str, Enum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"
    PENDING = "PENDING"
    RESIGNED = "RESIGNED"


class Gender(str, Enum):
    UNKNOWN = "UNKNOWN"
    MALE = "MALE"
    FEMALE = "FEMALE"


class Scope(str, Enum):
    INHERIT = "INHERIT"
    ALL = "ALL"
    DEPARTMENT = "DEPARTMENT"
    SUBDEPARTMENT = "SUBDEPARTMENT"


class ChainCorpStatus(str, Enum):
    IMPORTED = "IMPORTED"
    JOINED = "JOINED"
    REMOVED = "REMOVED"


class ContactRole(str, Enum):
    LEADER = "LEADER"
    MEMBER = "MEMBER"


class ContactStatus(str, Enum):
    IMPORTED = "IMPORTED"
    INVITED = "INVITED"
    PENDING_CONFIRM = "PENDING_CONFIRM"
    JOINED = "JOINED"
    DECLINED = "DECLINED"
    REMOVED = "REMOVED"


class AdminKind(str, Enum):
    SUPER_ADMIN = "SUPER_ADMIN"
    DIRECTORY_ADMIN = "DIRECTORY_ADMIN"
    CHAIN_ADMIN = "CHAIN_ADMIN"


class AdminRight(str, Enum):
    READ = "READ"
    MANAGE = "MANAGE"
    EXPORT = "EXPORT"


class AppScope(str, Enum):
    DIRECTORY_READ = "directory:read"
    DIRECTORY_WRITE = "directory:write"
    DIRECTORY_EXPORT = "directory:export"
    CHAIN_READ = "chain:read"
    CHAIN_WRITE = "chain:write"
    CHAIN_STATUS = "chain:status"
    FIELDS_SENSITIVE = "fields:sensitive"
    AUDIT_READ = "audit:read"


class ImportJobStatus(str, Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


class ImportKind(str, Enum):
    DIRECTORY = "DIRECTORY"
    CHAIN_CONTACTS = "CHAIN_CONTACTS"


class ImportMode(str, Enum):
    CREATE = "CREATE"
    UPSERT = "UPSERT"
    REPLACE = "REPLACE"


# Profile fields governed by per-corp field settings (SPEC §2.2). `name`, `account`,
# `status` and `departments` are not in this list: whoever sees the row sees them.
PROFILE_FIELDS: tuple[str, ...] = (
    "alias",
    "mobile",
    "email",
    "wechatId",
    "telephone",
    "gender",
    "position",
    "address",
    "birthday",
    "hireDate",
)

# Fields an app token sees only with the `fields:sensitive` scope.
SENSITIVE_FIELDS: frozenset[str] = frozenset({"mobile", "email", "telephone", "address", "birthday"})

# Defaults when a corp has not configured a field: contact details on, private data off.
DEFAULT_VISIBLE_TO_MEMBERS: frozenset[str] = frozenset(
    {"alias", "mobile", "email", "telephone", "gender", "position"}
)
DEFAULT_SELF_EDITABLE: frozenset[str] = frozenset({"alias", "wechatId", "telephone", "address", "birthday"})
