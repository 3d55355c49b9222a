"""The knowledge base editor in a real headless Chromium, against the desk served on a free port with the demo KB."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from desk.app import create_app
from settings import DEMO_KB_FILE, Settings
from tests.browser.conftest import ServedApp
from tests.browser.test_inbox_browser import submit, text_of
from tests.desk.inbox_support import PASSWORD
from tests.support import free_port

USERS = {"kb.editor": ("Eda Editor", "editor", None), "pw.officer": ("Rosa Martinez", "staff", "public-works")}
NEW_QUESTION = "Is the city pool heated in winter?"
IMPORTED = [{"id": "kb-bench", "question": "Can I get a memorial bench in a park?",
             "alt_questions": ["dedicate a bench to my mother"], "answer": "Yes: apply to Parks & Recreation.",
             "department": "Parks & Recreation"},
            {"id": "kb-kayak", "question": "Can I rent a kayak at Lake Alder?", "answer": "Yes, May to September."}]
QUESTIONS = [{"text": "What day is my garbage collected?", "expected_ids": ["demo-0001"]},
             {"text": "trash guys never came today and my bins r still full smh", "expected_ids": ["demo-0003"]},
             {"text": "can you recommend a pizza place", "expected_ids": []}]
EVALUATION_TIMEOUT_S = 120
UNANSWERED = ["Can I bring my dog to the farmers market?", "are dogs allowed at the farmers market",
              "Is there free wifi at City Hall? text me on 303-555-0142"]


@dataclass(frozen=True)
class Desk:
    url: str
    served: ServedApp


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    settings = Settings(data_dir=tmp_path_factory.mktemp("browser-editor"), seed_kb_file=DEMO_KB_FILE,
                        desk_port=free_port(), rasa_port=free_port())
    with ServedApp(create_app(settings), settings.host, settings.desk_port) as served:
        for username, (name, role, department) in USERS.items():
            served.app.state.staff.add(username=username, display_name=name, password=PASSWORD, role=role,
                                       department=department)
        for n, text in enumerate(UNANSWERED):
            served.app.state.cases.record_decision(channel="web", conversation_id=f"web-gap-{n}", text=text,
                                                   intent="ask_question", route="out_of_scope", reason="test",
                                                   entry_id=None, confidence=0.1, case=None)
        yield Desk(url=served.url, served=served)


@pytest.fixture
def browser(driver, desk) -> WebDriver:
    """The module's Chromium, logged out."""
    driver.get(f"{desk.url}/inbox/login")
    driver.delete_all_cookies()
    return driver


def log_in(browser: WebDriver, desk: Desk, username: str) -> None:
    browser.get(f"{desk.url}/inbox/login")
    browser.find_element(By.ID, "username").send_keys(username)
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    submit(browser, browser.find_element(By.ID, "login-button"))


def fill(browser: WebDriver, element_id: str, text: str) -> None:
    field = browser.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(text)


def listed(browser: WebDriver) -> list[str]:
    return [row.get_attribute("data-entry") for row in browser.find_elements(By.CSS_SELECTOR, "#entries tbody tr")]


def test_an_editor_lands_on_the_editor_and_searches(browser, desk):
    log_in(browser, desk, "kb.editor")
    assert browser.current_url == f"{desk.url}/editor"
    assert text_of(browser, "who") == "Eda Editor · editor"
    fill(browser, "text", "garbage")
    Select(browser.find_element(By.ID, "department")).select_by_visible_text("Waste & Recycling")
    submit(browser, browser.find_element(By.ID, "search-button"))
    assert "demo-0001" in listed(browser)
    assert text_of(browser, "total").endswith("entries") or text_of(browser, "total").endswith("entry")
    Select(browser.find_element(By.ID, "state")).select_by_visible_text("retired")
    submit(browser, browser.find_element(By.ID, "search-button"))
    assert listed(browser) == []
    assert text_of(browser, "no-entries") == "No entry matches."


def test_department_staff_cannot_open_the_editor(browser, desk):
    log_in(browser, desk, "pw.officer")
    assert browser.current_url == f"{desk.url}/inbox"
    browser.get(f"{desk.url}/editor/entries/new")
    assert text_of(browser, "error-title") == "No editor for this account"


def test_create_check_preview_publish_edit_revert_retire(browser, desk):
    log_in(browser, desk, "kb.editor")
    submit(browser, browser.find_element(By.ID, "nav-new"))
    fill(browser, "question", NEW_QUESTION)
    fill(browser, "alt_questions", "is the swimming pool warm in december\nheated pool in the winter")
    fill(browser, "answer", "Yes: the city pool is heated to 27 °C all year.")
    Select(browser.find_element(By.ID, "department")).select_by_visible_text("Parks & Recreation")
    fill(browser, "topic", "Pools")
    fill(browser, "url", "https://www.alderbrook.example/parks/pool")
    fill(browser, "note", "new entry from the winter questions")

    # near-duplicates, with their similarity, before saving
    submit(browser, browser.find_element(By.ID, "check-button"))
    similar = browser.find_elements(By.CSS_SELECTOR, "#duplicate-list li")
    assert similar, text_of(browser, "duplicates")
    first = similar[0]
    assert "What are the hours and fees at the city pool?" in first.text
    similarity = float(first.find_element(By.CLASS_NAME, "similarity").get_attribute("data-similarity"))
    assert 0.5 <= similarity < 1.0
    assert f"{similarity * 100:.0f}% similar" in first.text
    assert browser.find_element(By.ID, "answer").get_attribute("value") == \
        "Yes: the city pool is heated to 27 °C all year."  # what was typed is kept

    # the preview: the assistant does not answer with a draft
    submit(browser, browser.find_element(By.ID, "preview-button"))
    assert "threshold" in text_of(browser, "preview-verdict")

    # a mistake first: a bad URL is named and nothing is saved
    fill(browser, "url", "alderbrook pool page")
    submit(browser, browser.find_element(By.ID, "save-button"))
    assert text_of(browser, "error-url").startswith("The source URL 'alderbrook pool page' is not a web address")
    fill(browser, "url", "https://www.alderbrook.example/parks/pool")
    submit(browser, browser.find_element(By.ID, "save-button"))
    entry_id = text_of(browser, "entry-id")
    assert entry_id == "kb-is-the-city-pool-heated-in-winter"
    assert text_of(browser, "entry-state") == "draft"

    # publish: now the assistant answers with it
    submit(browser, browser.find_element(By.ID, "publish-button"))
    assert text_of(browser, "flash") == "Published (version 2): the assistant answers with it now."
    search = httpx.post(f"{desk.url}/api/kb/search", json={"text": NEW_QUESTION}).json()
    assert search["answer"]["id"] == entry_id
    submit(browser, browser.find_element(By.ID, "try-link"))
    assert text_of(browser, "preview-entry") == entry_id
    assert text_of(browser, "preview-answer") == "Yes: the city pool is heated to 27 °C all year."

    # edit: a new draft version; the published one keeps answering until it is published
    browser.get(f"{desk.url}/editor/entries/{entry_id}/edit")
    fill(browser, "answer", "The city pool is heated to 26 °C from October to April.")
    fill(browser, "note", "new temperature")
    submit(browser, browser.find_element(By.ID, "save-button"))
    assert text_of(browser, "flash").startswith("Saved as version 3 (draft).")
    assert text_of(browser, "entry-answer") == "The city pool is heated to 26 °C from October to April."
    rows = browser.find_elements(By.CSS_SELECTOR, "#history tbody tr")
    assert [(r.get_attribute("data-version"), r.get_attribute("data-state")) for r in rows] == [
        ("3", "draft"), ("2", "published"), ("1", "draft")]
    assert "new temperature" in rows[0].text and "kb.editor" in rows[0].text

    # revert to version 1
    submit(browser, browser.find_element(By.ID, "revert-1"))
    assert text_of(browser, "flash") == "Back to version 1: saved as version 4."
    assert text_of(browser, "entry-answer") == "Yes: the city pool is heated to 27 °C all year."

    # retire: the assistant no longer answers with it
    submit(browser, browser.find_element(By.ID, "retire-button"))
    assert text_of(browser, "entry-state") == "retired"
    search = httpx.post(f"{desk.url}/api/kb/search", json={"text": NEW_QUESTION}).json()
    assert entry_id not in [hit["id"] for hit in search["results"]]
    submit(browser, browser.find_element(By.ID, "retire-button"))
    assert text_of(browser, "entry-error") == f"Cannot retire entry '{entry_id}': it is already retired."


def test_create_entry_from_unanswered_questions_fills_in_the_form(browser, desk):
    log_in(browser, desk, "kb.editor")
    submit(browser, browser.find_element(By.ID, "nav-gaps"))
    groups = browser.find_elements(By.CSS_SELECTOR, "#gaps tbody tr")
    assert [g.get_attribute("data-count") for g in groups] == ["1", "2"]
    assert "Is there free wifi at City Hall? text me on [phone]" in groups[0].text
    assert "303-555-0142" not in browser.page_source
    submit(browser, groups[1].find_element(By.CLASS_NAME, "create-entry"))
    assert browser.find_element(By.ID, "question").get_attribute("value") == "are dogs allowed at the farmers market"
    assert browser.find_element(By.ID, "alt_questions").get_attribute("value") == \
        "Can I bring my dog to the farmers market?"


def write_lines(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return str(path)


def test_import_a_file_as_drafts_then_a_bad_file(browser, desk, tmp_path):
    log_in(browser, desk, "kb.editor")
    submit(browser, browser.find_element(By.ID, "nav-import"))
    browser.find_element(By.ID, "import-file-input").send_keys(write_lines(tmp_path / "parks.jsonl", IMPORTED))
    browser.find_element(By.ID, "import-draft").click()
    submit(browser, browser.find_element(By.ID, "import-button"))
    assert text_of(browser, "import-result") == ("Imported parks.jsonl as drafts: 2 new, 0 updated, 0 unchanged. "
                                                 "Publish them to let the assistant answer with them.")
    assert desk.served.app.state.entry_editor.get("kb-kayak").state == "draft"
    assert browser.find_element(By.ID, "export-draft-csv").get_attribute("href") == \
        f"{desk.url}/editor/export?format=csv&state=draft"

    bad = tmp_path / "bad.csv"
    bad.write_text("id,question,answer\nkb-swim,Can I swim in the lake?,\n", encoding="utf-8")
    browser.find_element(By.ID, "import-file-input").send_keys(str(bad))
    submit(browser, browser.find_element(By.ID, "import-button"))
    assert text_of(browser, "import-error") == "bad.csv, line 2: missing answer (empty); nothing was imported"
    assert browser.find_element(By.ID, "import-draft").is_selected()  # the choice is kept


def evaluation_done(browser: WebDriver) -> bool:
    """The job page has stopped reloading itself (it reloads while the evaluation runs)."""
    try:
        return browser.find_element(By.ID, "evaluation-status").get_attribute("data-status") != "running"
    except WebDriverException:  # mid-reload
        return False


def test_evaluate_uploaded_questions_and_read_the_figures_and_the_table(browser, desk, tmp_path):
    log_in(browser, desk, "kb.editor")
    submit(browser, browser.find_element(By.ID, "nav-evaluate"))
    browser.find_element(By.ID, "questions-file").send_keys(write_lines(tmp_path / "questions.jsonl", QUESTIONS))
    submit(browser, browser.find_element(By.ID, "evaluate-button"))
    WebDriverWait(browser, EVALUATION_TIMEOUT_S).until(evaluation_done)
    assert text_of(browser, "evaluation-status") == "Done: 3 questions."
    figures = {row.get_attribute("data-key"): row.find_element(By.CLASS_NAME, "value").text
               for row in browser.find_elements(By.CSS_SELECTOR, "#figures tbody tr")}
    assert {"auto_answer_rate", "auto_answer_precision", "confirm_answer_rate", "confirm_answer_precision",
            "handled_without_staff_rate", "clarify_rate", "handoff_recall", "top1", "recall_at_3",
            "latency_ms_p50", "latency_ms_p95"} <= set(figures)
    assert (figures["n"], figures["n_answerable"], figures["n_unanswerable"]) == ("3", "2", "1")
    assert figures["handoff_recall"] == "100.0 %"
    rows = browser.find_elements(By.CSS_SELECTOR, "#questions tbody tr")
    assert [row.find_element(By.TAG_NAME, "td").text for row in rows] == [q["text"] for q in QUESTIONS]
    first = rows[0]
    assert (first.get_attribute("data-best"), first.get_attribute("data-right")) == ("demo-0001", "yes")
    assert first.get_attribute("data-band") in ("answer", "confirm")
    assert first.find_element(By.CLASS_NAME, "verdict").text == "yes"
    assert (rows[2].get_attribute("data-band"), rows[2].get_attribute("data-right")) == ("handoff", "yes")
