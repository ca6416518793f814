"""GraphQL enums, exposed from the model enums so there is one list of values."""

from __future__ import annotations

from enum import Enum

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


@strawberry.enum(description="A month of the year, as searchMembers(birthdayMonth:) takes it.")
class Month(Enum):
    JANUARY = 1
    FEBRUARY = 2
    MARCH = 3
    APRIL = 4
    MAY = 5
    JUNE = 6
    JULY = 7
    AUGUST = 8
    SEPTEMBER = 9
    OCTOBER = 10
    NOVEMBER = 11
    DECEMBER = 12
