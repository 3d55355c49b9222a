"""The entry life cycle through EntryEditor on a real SQLite file and the real embedding model."""

from __future__ import annotations

import pytest

from database import create_db_engine, session_factory, upgrade
from knowledge_base.editor import EntryEditor
from knowledge_base.entry import Entry
from knowledge_base.lifecycle import EntryError, EntryNotFound, InvalidTransition, VersionNotFound
from knowledge_base.search import Filters
from knowledge_base.store import EntryStore
from tests.knowledge_base.conftest import SMALL_ENTRIES

POTHOLE = Entry(id="t-pothole", question="How do I report a pothole?", alt_questions=("hole in the road",),
                answer="Report it on the Street Care page.", department="Public Works", topic="Streets")


@pytest.fixture
def editor(make_kb) -> EntryEditor:
    return EntryEditor(make_kb(SMALL_ENTRIES))


def answered_id(editor: EntryEditor, text: str) -> str | None:
    entry = editor.preview(text).entry
    return entry.id if entry else None


def test_a_new_entry_is_a_draft_that_answers_nobody_until_published(editor):
    record = editor.save(POTHOLE, editor="eddie", note="new entry")
    assert (record.state, record.version, record.updated_by, record.published_version) == ("draft", 1, "eddie", None)
    assert answered_id(editor, "how do I report a pothole") is None
    assert all(h.entry.id != "t-pothole" for h in editor.kb.search("report a pothole"))
    # callers may ask for drafts explicitly
    assert editor.kb.search("report a pothole", filters=Filters(state="draft"))[0].entry.id == "t-pothole"

    published = editor.publish("t-pothole", editor="eddie", note="checked")
    assert (published.state, published.version, published.published_version) == ("published", 2, 2)
    assert answered_id(editor, "how do I report a pothole") == "t-pothole"
    assert editor.kb.published_version("t-pothole") == 2


def test_an_edit_of_a_published_entry_waits_as_a_draft_while_the_published_version_answers(editor):
    edited = SMALL_ENTRIES[0].model_copy(update={"answer": "Bulk items go on the second Tuesday."})
    record = editor.save(edited, editor="eddie", note="new schedule")
    assert (record.state, record.version, record.published_version) == ("draft", 2, 1)
    assert editor.preview("when is bulk trash pickup").entry.answer == SMALL_ENTRIES[0].answer
    assert editor.get("t-bulk").entry == edited  # editors see the newest version
    editor.publish("t-bulk", editor="eddie", note="approved")
    assert editor.preview("when is bulk trash pickup").entry.answer == "Bulk items go on the second Tuesday."


def test_retire_stops_answering_and_revert_brings_back_any_version(editor):
    editor.retire("t-bulk", editor="eddie", note="service ended")
    assert answered_id(editor, "when is bulk trash pickup") is None
    assert editor.kb.published_version("t-bulk") is None
    reverted = editor.revert("t-bulk", 1, editor="eddie", note="service is back")
    assert (reverted.state, reverted.version, reverted.entry) == ("published", 3, SMALL_ENTRIES[0])
    assert answered_id(editor, "when is bulk trash pickup") == "t-bulk"
    history = editor.history("t-bulk")
    assert [(v.version, v.state, v.editor, v.note) for v in history] == [
        (3, "published", "eddie", "service is back"), (2, "retired", "eddie", "service ended"),
        (1, "published", "import", "imported")]
    assert history[0].created_at >= history[1].created_at >= history[2].created_at
    assert history[0].created_at.tzinfo is not None


def test_revert_to_a_draft_version_keeps_the_published_one_answering(editor):
    editor.save(SMALL_ENTRIES[0].model_copy(update={"answer": "Draft answer."}), editor="eddie", note="try")
    editor.publish("t-bulk", editor="eddie", note="go")  # version 3
    record = editor.revert("t-bulk", 2, editor="eddie", note="back to the draft")
    assert (record.state, record.version, record.entry.answer, record.published_version) == (
        "draft", 4, "Draft answer.", 3)


def test_invalid_transitions_and_unknown_ids_are_clear_errors_and_change_nothing(editor):
    with pytest.raises(InvalidTransition, match="already published"):
        editor.publish("t-bulk", editor="eddie", note="")
    editor.retire("t-bulk", editor="eddie", note="")
    with pytest.raises(InvalidTransition, match="already retired"):
        editor.retire("t-bulk", editor="eddie", note="")
    with pytest.raises(EntryNotFound, match="no entry 'nope'"):
        editor.publish("nope", editor="eddie", note="")
    with pytest.raises(EntryNotFound):
        editor.get("nope")
    with pytest.raises(VersionNotFound, match="versions are 1 to 2"):
        editor.revert("t-bulk", 7, editor="eddie", note="")
    with pytest.raises(EntryError, match="who makes the change"):
        editor.save(POTHOLE, editor="  ", note="")
    assert len(editor.history("t-bulk")) == 2
    with pytest.raises(EntryNotFound):
        editor.history("t-pothole")


def test_list_filters_by_text_department_topic_and_state_and_pages(editor):
    editor.save(POTHOLE, editor="eddie", note="")
    editor.retire("t-dog", editor="eddie", note="")
    records, total = editor.list()
    assert total == 6 and [r.entry.id for r in records] == sorted(r.entry.id for r in records)
    assert [r.entry.id for r in editor.list(text="PHOTO ID")[0]] == ["t-library"]  # answer, case-insensitive
    assert [r.entry.id for r in editor.list(text="citation")[0]] == ["t-ticket"]  # alternative phrasing
    assert [r.entry.id for r in editor.list(department="Animal Services")[0]] == ["t-dog", "t-perros"]
    assert [r.entry.id for r in editor.list(topic="Streets")[0]] == ["t-pothole"]
    assert [r.entry.id for r in editor.list(state="draft")[0]] == ["t-pothole"]
    assert [r.entry.id for r in editor.list(state="retired")[0]] == ["t-dog"]
    assert editor.list(state="published")[1] == 4
    page, total = editor.list(limit=2, offset=2)
    assert total == 6 and len(page) == 2
    with pytest.raises(EntryError, match="unknown state"):
        editor.list(state="archived")


def test_near_duplicates_rank_similar_non_retired_entries_with_their_similarity(editor):
    editor.save(POTHOLE, editor="eddie", note="")
    editor.retire("t-ticket", editor="eddie", note="")
    found = editor.near_duplicates("where do I report a pothole in my street")
    assert found[0][0].entry.id == "t-pothole" and 0.6 < found[0][1] <= 1.0
    assert all(0.0 <= score <= 1.0 for _, score in found)
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    assert "t-ticket" not in [r.entry.id for r, _ in editor.near_duplicates("pay my parking ticket")]
    assert "t-pothole" not in [r.entry.id for r, _ in editor.near_duplicates("report a pothole",
                                                                             exclude_id="t-pothole")]


def test_the_migration_makes_existing_entries_published_version_one(tmp_path):
    url = f"sqlite:///{tmp_path}/old.db"
    from alembic import command

    from database.migrate import alembic_config

    command.upgrade(alembic_config(url), "0005")
    engine = create_db_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO kb_entries (id, question, alt_questions, answer, language, updated_at) VALUES "
            "('old', 'Old question?', '[\"older phrasing\"]', 'Old answer.', 'en', '2026-01-01 00:00:00')")
    upgrade(url)
    store = EntryStore(session_factory(engine))
    record = store.record("old")
    assert (record.state, record.version, record.updated_by) == ("published", 1, "migration")
    assert record.entry == Entry(id="old", question="Old question?", alt_questions=("older phrasing",),
                                 answer="Old answer.")
    assert store.live()[0].state == "published"


def test_saving_unchanged_content_adds_no_version_but_saving_a_retired_entry_revives_it_as_a_draft(editor):
    assert editor.save(SMALL_ENTRIES[0], editor="eddie", note="no change").version == 1
    assert len(editor.history("t-bulk")) == 1
    editor.retire("t-bulk", editor="eddie", note="")
    revived = editor.save(SMALL_ENTRIES[0], editor="eddie", note="back as a draft")
    assert (revived.state, revived.version, revived.published_version) == ("draft", 3, None)
