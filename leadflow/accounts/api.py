from ninja import Router, Schema

from leadflow.core.responses import answers

router = Router(tags=["accounts"])


class MeOut(Schema):
    id: int
    username: str
    email: str
    role: str
    team: str | None


@router.get("", response=answers(MeOut), summary="The user the token belongs to")
def me(request):
    user = request.user
    return MeOut(id=user.pk, username=user.username, email=user.email, role=user.role,
                 team=user.team.name if user.team_id else None)
