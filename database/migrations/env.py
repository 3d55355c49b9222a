"""Alembic environment: runs migrations against the URL the caller configured."""

from alembic import context

from database.engine import Base, create_db_engine

# Import every package's tables so that autogenerate sees them.
import connectors.models  # noqa: F401  isort: skip
import handoff.models  # noqa: F401  isort: skip
import knowledge_base.feedback  # isort: skip
import knowledge_base.store  # noqa: F401  isort: skip
import transcripts.log_models  # isort: skip
import transcripts.models  # noqa: F401  isort: skip

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata,
                      literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = create_db_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
