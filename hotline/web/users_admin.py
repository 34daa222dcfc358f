"""The admins' users page (/users): set a password, disable or enable, remove. Each change is
audited and ends the user's sessions on every node, and their open live feeds on this one at
once (the other nodes' at once too when they share PostgreSQL: hotline/web/sessions.py).
Admins only; CSRF as every form. An admin cannot disable or remove their own account
(someone must be left to undo it)."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from hotline.store.users_repo import MIN_PASSWORD, Role, UserError
from hotline.web.auth import COOKIE, SESSIONS, USERS, require
from hotline.web.console import local, page, tz
from hotline.web.keys import SERVICES

routes = web.RouteTableDef()


async def users_page(request: web.Request, error: str = "", done: str = "",
                     status: int = 200) -> web.Response:
    zone = tz(request)
    sessions = request.app[SESSIONS]
    now = sessions.clock.now()
    live = await request.app[SERVICES].sessions.live_by_user(
        now - timedelta(seconds=sessions.policy.idle_s),
        now - timedelta(seconds=sessions.policy.absolute_s))
    users = [{"id": u.id, "role": u.role, "disabled": u.disabled,
              "created": local(u.created_at, zone), "sessions": live.get(u.id, 0)}
             for u in await request.app[USERS].all()]
    response = page(request, "users.html", users=users, error=error, done=done,
                    min_password=MIN_PASSWORD)
    response.set_status(status)
    return response


@routes.get("/users")
async def users_get(request: web.Request) -> web.Response:
    require(request, Role.ADMIN)
    return await users_page(request)


def _target(request: web.Request) -> tuple[str, str]:
    """(the admin, the user they change)"""
    return require(request, Role.ADMIN).user, request.match_info["id"]


@routes.post("/users/{id}/password")
async def users_password(request: web.Request) -> web.Response:
    admin, user = _target(request)
    form = await request.post()
    try:
        await request.app[USERS].set_password(user, str(form.get("password", "")), by=admin)
    except UserError as exc:
        return await users_page(request, f"{user}: {exc}", status=400)
    await request.app[SESSIONS].revoked_user(user)
    if user == admin:  # their own sessions are over too, this one included
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE, path="/")
        raise response
    return await users_page(request, done=f"{user} 的密码已修改，其登录已全部结束")


@routes.post("/users/{id}/disabled")
async def users_disabled(request: web.Request) -> web.Response:
    admin, user = _target(request)
    value = str((await request.post()).get("disabled", ""))
    if value not in ("yes", "no"):
        return await users_page(request, "disabled: yes or no", status=400)
    if user == admin:
        return await users_page(request, "不能停用自己的账号", status=400)
    try:
        await request.app[USERS].set_disabled(user, value == "yes", by=admin)
    except UserError as exc:
        return await users_page(request, f"{user}: {exc}", status=400)
    await request.app[SESSIONS].revoked_user(user)
    return await users_page(request, done=f"{user} 已{'停用' if value == 'yes' else '启用'}")


@routes.post("/users/{id}/remove")
async def users_remove(request: web.Request) -> web.Response:
    admin, user = _target(request)
    if (await request.post()).get("confirm") != "yes":
        return await users_page(request, "confirm: tick 确认 to remove the account", status=400)
    if user == admin:
        return await users_page(request, "不能删除自己的账号", status=400)
    try:
        await request.app[USERS].remove(user, by=admin)
    except UserError as exc:
        return await users_page(request, f"{user}: {exc}", status=400)
    await request.app[SESSIONS].revoked_user(user)
    return await users_page(request, done=f"{user} 已删除")
