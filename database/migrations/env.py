"""Alembic environment: runs migrations against the URL the caller configured."""

from alembic import context

from database.engine import Base, create_db_engine

config = context.config
# The tables of whatever packages the running process imported: upgrades need none (each revision says what it
# changes); autogenerate needs them all, and scripts/new_migration.py imports every package's models first. So the
# database layer never imports the layers above it.
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("no sqlalchemy.url in the Alembic config (database.migrate sets it)")
    engine = create_db_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
