"""An account service written against the generated ``blog`` models.

Checked by ``tests/typing/test_typing.py`` with ``mypy --strict``; never executed.
"""

from __future__ import annotations

import datetime
import uuid
from typing import assert_type

from blog import User, UserQuery, UserWhere

from jadugar import DatabaseManager, NotFoundError


async def register(name: str, email: str, password_hash: str) -> User:
    user = await User.create(name=name, email=email, password_hash=password_hash)
    assert_type(user, User)
    assert_type(user.id, int)
    assert_type(user.name, str)
    assert_type(user.active, bool)
    assert_type(user.api_key, uuid.UUID | None)
    assert_type(user.birthday, datetime.date | None)
    assert_type(user.login_count, int)
    assert_type(user.created_at, datetime.datetime)
    assert_type(user.deleted_at, datetime.datetime | None)
    return user


async def register_with_everything(name: str, email: str) -> User:
    return await User.create(
        name=name,
        email=email,
        password_hash="argon2$...",
        active=False,
        api_key=uuid.uuid4(),
        birthday=datetime.date(1990, 1, 1),
        login_count=0,
    )


async def rename(user_id: int, name: str) -> User:
    updated = await User.update(user_id, name=name, birthday=None)
    assert_type(updated, User)
    assert_type(await User.update(user_id), User)
    return updated


async def record_login(user_id: int) -> int:
    user = await User.find(user_id)
    user.login_count += 1
    user.api_key = None
    await user.save()
    await user.refresh()
    return user.login_count


async def email_of(user_id: int) -> str | None:
    user = await User.find_or_none(user_id)
    assert_type(user, User | None)
    if user is None:
        return None
    return user.email


async def find_account(user_id: int, email: str) -> User:
    assert_type(await User.find(user_id), User)
    by_keyword = User.find_by(email=email, active=True)
    assert_type(by_keyword, UserQuery)
    assert_type(await by_keyword.first(), User | None)
    assert_type(await by_keyword, list[User])
    where: UserWhere = {"email": email, "deleted_at": None}
    assert_type(await User.find_by(where).first(), User | None)
    assert_type(await User.find_by({"name": "Ada"}, active=True).get(), list[User])
    found = await User.find_by(email=email).first()
    if found is None:
        raise NotFoundError(f"no user with email {email}")
    return found


async def close_account(user_id: int) -> None:
    await User.delete(user_id)


async def close_loaded_account(user: User) -> None:
    await user.delete()


async def export(user_id: int) -> str:
    user = await User.find(user_id)
    fields = list(user.model_dump())  # any: pydantic's BaseModel.model_dump returns dict[str, Any]
    assert_type(fields, list[str])
    return user.model_dump_json()


async def new_unsaved_user() -> User:
    user = User(name="Ada", email="ada@example.com", password_hash="x")
    assert_type(user.persisted, bool)
    await user.save()
    return user


async def with_database(url: str) -> int:
    async with DatabaseManager(url=url) as db:
        User.bind(db)
        return await User.query().where(User.c.email.like("%@example.com")).count()
