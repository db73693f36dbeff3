"""Development seed: one admin, so that the Admin UI can be used right away."""

from __future__ import annotations

import asyncio
from uuid import UUID

from nudges_kit.auth import user_id_for
from nudges_kit.db import create_pool
from nudges_kit.phone import PhoneVault, normalize
from nudges_user.settings import UserSettings


async def seed_admin(settings: UserSettings) -> bool:
    """Create the admin of ``seed_admin_phone`` unless it exists; True when created."""
    phone = normalize(settings.seed_admin_phone)
    vault = PhoneVault(
        settings.phone_encryption_key.get_secret_value(), settings.phone_hash_key.get_secret_value()
    )
    pool = await create_pool(settings.database_url(), max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            user_id = await conn.fetchval(
                "INSERT INTO users (id, phone_hash, phone_ciphertext, locale)"
                " VALUES ($1, $2, $3, 'en')"
                " ON CONFLICT (phone_hash) DO UPDATE SET phone_hash = EXCLUDED.phone_hash"
                " RETURNING id",
                UUID(user_id_for(vault.hash(phone))),
                vault.hash(phone),
                vault.encrypt(phone),
            )
            created = await conn.fetchval(
                "INSERT INTO admins (user_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING true",
                user_id,
            )
        return bool(created)
    finally:
        await pool.close()


def seed() -> str:
    """Entry point of the ``nudges.seeds`` group."""
    created = asyncio.run(seed_admin(UserSettings()))
    return "admin created" if created else "admin present"
