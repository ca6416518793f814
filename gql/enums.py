"""GraphQL enums, exposed from the model enums so there is one list of values."""

from __future__ import annotations

import strawberry

from models import enums

MemberStatus = strawberry.enum(enums.MemberStatus)
Gender = strawberry.enum(enums.Gender)
Scope = strawberry.enum(enums.Scope)
ChainCorpStatus = strawberry.enum(enums.ChainCorpStatus)
ContactRole = strawberry.enum(enums.ContactRole)
ContactStatus = strawberry.enum(enums.ContactStatus)
AdminKind = strawberry.enum(enums.AdminKind)
AdminRight = strawberry.enum(enums.AdminRight)
ImportJobStatus = strawberry.enum(enums.ImportJobStatus)
ImportKind = strawberry.enum(enums.ImportKind)
ImportMode = strawberry.enum(enums.ImportMode)
