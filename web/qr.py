"""The QR code of an invitation link: GET /invitations/{code}/qr.png.

The code is the secret, so the image needs no token: whoever holds the code may see its QR
code. A dead invitation (expired, revoked, creator resigned) answers 410, an unknown one 404.
"""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response

from flows import chain_notices
from flows.invitations import InvitationState, invitation_state, plausible_code
from models import Invitation, Member


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=8, border=2)
    return out.getvalue()


async def invitation_qr(request: Request) -> Response:
    code = str(request.path_params["code"])
    inv = await Invitation.get_or_none(code=code).prefetch_related("chain") if plausible_code(code) else None
    if inv is None:
        return Response("No such invitation.", status_code=404, media_type="text/plain")
    creator = await Member.get(id=inv.created_by_id)
    if invitation_state(inv, inv.chain, creator.status, chain_notices.now()) is not InvitationState.ACTIVE:
        return Response("This invitation no longer works.", status_code=410, media_type="text/plain")
    return Response(
        qr_png(chain_notices.join_url(code)),
        media_type="image/png",
        headers={"Cache-Control": "private, max-age=300"},
    )
