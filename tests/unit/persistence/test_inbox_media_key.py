"""An encrypted file's key is kept with it in the inbox (part of the contract suite, fixture `uow_factory`);
rows written before encrypted files existed read as files without a key."""

import json
from dataclasses import replace

from sqlalchemy import update

from adapters.persistence.engine import make_engine, make_session_factory
from adapters.persistence.migrate import upgrade_database
from adapters.persistence.tables import INBOX
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from domain.model.media import MediaKey
from ports.unit_of_work import UnitOfWorkFactory
from tests.unit.persistence.test_files_contract import a_file

KEY = MediaKey(key="-_8AZm9yIHRlc3RzIG9ubHksIDMyIGJ5dGVzIGxvbv4", iv="AAECAwQFBgcAAAAAAAAAAA", sha256="47DEQpj8+/U")


async def test_an_encrypted_files_key_survives_the_inbox(uow_factory: UnitOfWorkFactory) -> None:
    encrypted, plain = replace(a_file("$f1"), media_key=KEY), a_file("$f2", timestamp_ms=200)
    async with uow_factory() as uow:
        assert await uow.inbox.record(encrypted) and await uow.inbox.record(plain)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.inbox.pending() == [encrypted, plain]


async def test_a_file_recorded_before_encryption_reads_without_a_key(database_url: str) -> None:
    file = a_file("$old")
    old_payload = {
        "filename": file.filename,
        "kind": "image",
        "mime_type": "image/png",
        "size": 2048,
        "media": file.media,
    }
    await upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            await uow.inbox.record(file)
            await uow.commit()
        async with engine.begin() as connection:
            await connection.execute(update(INBOX).values(payload=json.dumps(old_payload)))
        async with SqlAlchemyUnitOfWork(make_session_factory(engine)) as uow:
            assert await uow.inbox.pending() == [file]
    finally:
        await engine.dispose()
